"""Tree ensembles from maintained libraries: LightGBM's gradient boosting, scikit-learn's random
forest (whose per-tree spread is its uncertainty)."""

from __future__ import annotations

import numpy as np

from nasfast.estimate.predictors.base import Predictor, check_float, check_int


def _import(module: str, extra: str = "predictors"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ValueError(
            f"model: needs the {module.split('.')[0]} package (pip install 'nasfast[{extra}]')"
        ) from None


class LightGBMPredictor(Predictor):
    """Gradient-boosted trees (``lightgbm.LGBMRegressor``). Leaves need at least
    ``min(20, n // 10)`` rows (LightGBM's default of 20 would leave 20 training rows one leaf).

    Args:
        n_estimators, learning_rate, num_leaves: LightGBM's usual knobs.
        subsample, colsample: row and feature fractions per tree.
    """

    name = "lgb"

    def __init__(
        self,
        n_estimators: int = 500,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        subsample: float = 0.8,
        colsample: float = 0.8,
    ) -> None:
        self.n_estimators = check_int(n_estimators, "n_estimators", 1)
        self.learning_rate = check_float(learning_rate, "learning_rate")
        self.num_leaves = check_int(num_leaves, "num_leaves", 2)
        self.subsample = check_float(subsample, "subsample")
        self.colsample = check_float(colsample, "colsample")
        if self.subsample > 1 or self.colsample > 1:
            raise ValueError("subsample, colsample: expected fractions in (0, 1]")

    def _fit(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        lgb = _import("lightgbm")
        self.model = lgb.LGBMRegressor(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=max(2, min(20, len(X) // 10)),
            subsample=self.subsample,
            subsample_freq=1,
            colsample_bytree=self.colsample,
            random_state=seed % 2**31,
            n_jobs=1,
            verbose=-1,
        )
        self.model.fit(X, y)

    def _predict(self, X: np.ndarray, want_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        return np.asarray(self.model.predict(X), dtype=np.float64), None


class RandomForestPredictor(Predictor):
    """``sklearn.ensemble.RandomForestRegressor``; std = spread of the trees' predictions.

    Args:
        n_estimators: trees.
        max_features: features tried per split (scikit-learn's meaning).
        min_samples_leaf: rows per leaf.
    """

    name = "rf"
    has_std = True

    def __init__(
        self,
        n_estimators: int = 200,
        max_features: float | str | None = 0.5,
        min_samples_leaf: int = 1,
    ) -> None:
        self.n_estimators = check_int(n_estimators, "n_estimators", 1)
        self.max_features = max_features
        self.min_samples_leaf = check_int(min_samples_leaf, "min_samples_leaf", 1)

    def _fit(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        ensemble = _import("sklearn.ensemble")
        self.model = ensemble.RandomForestRegressor(
            n_estimators=self.n_estimators,
            max_features=self.max_features,
            min_samples_leaf=self.min_samples_leaf,
            random_state=seed % 2**31,
            n_jobs=1,
        )
        self.model.fit(X, y)

    def _predict(self, X: np.ndarray, want_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if not want_std:
            return self.model.predict(X), None
        P = np.stack([t.predict(X) for t in self.model.estimators_])
        return P.mean(0), P.std(0)
