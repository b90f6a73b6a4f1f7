"""The predictor interface: fit on encoded architectures and their metric, query unseen ones.

A :class:`Predictor` works on feature matrices (one row per architecture, see
:mod:`nasfast.estimate.predictors.encodings`). It standardises the target (and, for models that
want it, the features) itself, so every model sees zero-mean unit-variance data and answers in the
metric's own units. Models with an uncertainty estimate (ensembles, forests, Gaussian processes)
set ``has_std`` and answer :meth:`Predictor.predict_dist` with a per-row (mean, std).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

_MIN_SCALE = 1e-12


def as_matrix(X: object, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """``X`` as a finite float64 matrix (n, d), or a one-line ValueError naming ``name``."""
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}: expected a numeric (n, d) array, got {type(X).__name__}"
        ) from None
    if A.ndim != 2:
        raise ValueError(f"{name}: expected a 2-d (n, d) array, got shape {A.shape}")
    if n_features is not None and A.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} features per row, got {A.shape[1]}")
    if not np.isfinite(A).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return A


def as_target(y: object, n: int) -> np.ndarray:
    try:
        v = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"y: expected {n} numbers, got {type(y).__name__}") from None
    if v.shape != (n,):
        raise ValueError(f"y: expected shape ({n},) to match X, got {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError("y: expected finite values, got NaN or inf")
    return v


def check_int(value: object, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name}: expected an int >= {lo}, got {value!r}")
    return int(value)


def check_float(value: object, name: str, lo: float = 0.0, strict: bool = True) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(v) or v < lo or (strict and v == lo):
        raise ValueError(f"{name}: expected a number {'>' if strict else '>='} {lo}, got {value!r}")
    return v


class Predictor(ABC):
    """Regression from architecture features to a metric (higher or lower: the model does not care).

    ``fit(X, y, seed)`` trains from scratch (a second call forgets the first); ``predict(X)`` gives
    the mean; ``predict_dist(X)`` gives (mean, std) where ``has_std`` is true.
    """

    name = "predictor"
    has_std = False
    scale_inputs = False  # standardise feature columns before _fit (MLPs, GPs)
    min_train = 2

    def fit(self, X: object, y: object, seed: int | None = None) -> Predictor:
        A = as_matrix(X)
        if len(A) < self.min_train:
            raise ValueError(
                f"X: {self.name} needs at least {self.min_train} training rows, got {len(A)}"
            )
        v = as_target(y, len(A))
        self.n_features = A.shape[1]
        self._x_mean = A.mean(0) if self.scale_inputs else np.zeros(A.shape[1])
        sd = A.std(0) if self.scale_inputs else np.ones(A.shape[1])
        self._x_scale = np.where(sd > _MIN_SCALE, sd, 1.0)
        self._y_mean = float(v.mean())
        self._y_scale = float(v.std()) if v.std() > _MIN_SCALE else 1.0
        seed = int(np.random.SeedSequence(seed).generate_state(1)[0]) if seed is None else seed
        self._fit(self._scale(A), (v - self._y_mean) / self._y_scale, seed)
        return self

    def predict(self, X: object) -> np.ndarray:
        """Predicted metric per row, shape (n,)."""
        mean, _ = self._query(X, want_std=False)
        return mean

    def predict_dist(self, X: object) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) per row; ValueError for a model without uncertainty."""
        if not self.has_std:
            raise ValueError(f"predictor: {self.name} gives no uncertainty (has_std is False)")
        mean, std = self._query(X, want_std=True)
        assert std is not None
        return mean, std

    def _query(self, X: object, want_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if not hasattr(self, "n_features"):
            raise ValueError(f"predictor: {self.name} must be fit before it is queried")
        A = as_matrix(X, n_features=self.n_features)
        mean, std = self._predict(self._scale(A), want_std)
        mean = mean * self._y_scale + self._y_mean
        return mean, None if std is None else std * self._y_scale

    def _scale(self, A: np.ndarray) -> np.ndarray:
        return (A - self._x_mean) / self._x_scale

    @abstractmethod
    def _fit(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        """Train on standardised data (y has mean 0 and std 1)."""

    @abstractmethod
    def _predict(self, X: np.ndarray, want_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """(mean, std or None) in standardised units."""
