"""An ensemble of curve families weighted by how well each extrapolates a held-out tail.

The last ``holdout`` share of the observed points is hidden, every family is fitted on the rest
and scored on the hidden tail (an extrapolation, like the prediction it is weighted for). The
``top_k`` best families get weights proportional to ``1 / (error^2 + tiny)`` and are refitted on
all points. The prediction is their weighted mean; its band adds the spread between families to
their held-out error (grown with the distance of the extrapolation) and their scatter around
the observed points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from nasfast.estimate.curves.families import DEFAULT_ENSEMBLE, CurveFamily, get_family
from nasfast.estimate.curves.fit import ArrayLike, CurveFit, check_curve, fit_curve


@dataclass(frozen=True)
class CurvePrediction:
    """Predicted value at each target budget, with a central ``level`` band."""

    x: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    weights: dict[str, float] = field(default_factory=dict)

    def at(self, i: int = -1) -> tuple[float, float, float]:
        """(mean, lower, upper) at the ``i``-th target budget."""
        return float(self.mean[i]), float(self.lower[i]), float(self.upper[i])


@dataclass
class CurveEnsemble:
    """Weighted ensemble of families (see the module docstring).

    Args:
        families: names (or :class:`CurveFamily`) to draw on (default: Domhan et al.'s eleven
            and the last value).
        holdout: share of the observed points held out to weight the families (at least one).
        top_k: how many of the best families get a weight.
        limits: (low, high) the metric cannot leave, e.g. (0, 1) or (0, 100) for accuracy;
            the families are fitted on the curve mapped to [0, 1] by it, and predictions and
            bands are clipped to it.
    """

    families: Sequence[str | CurveFamily] = DEFAULT_ENSEMBLE
    holdout: float = 0.2
    top_k: int = 3
    limits: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        self.families = [get_family(f) for f in self.families]
        if not self.families:
            raise ValueError("families: expected at least one curve family")
        if not 0.0 < self.holdout < 1.0:
            raise ValueError(f"holdout: expected a share in (0, 1), got {self.holdout}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1:
            raise ValueError(f"top_k: expected an int >= 1, got {self.top_k!r}")
        if self.limits is not None:
            lo, hi = (float(v) for v in self.limits)
            if not lo < hi:
                raise ValueError(f"limits: expected (low, high) with low < high, got {self.limits}")
            self.limits = (lo, hi)

    @property
    def min_points(self) -> int:
        """Fewest observed points the ensemble accepts: one to fit, one to hold out."""
        return 2

    def fit(self, x: ArrayLike, y: ArrayLike) -> FittedEnsemble:
        xa, ya = check_curve(x, y)
        if self.limits is not None:  # the families' starts and bounds assume a unit scale
            ya = (ya - self.limits[0]) / (self.limits[1] - self.limits[0])
        n = len(xa)
        if n < self.min_points:
            raise ValueError(
                f"y: the curve ensemble needs at least {self.min_points} points, got {n}"
            )
        n_hold = max(1, int(round(self.holdout * n)))
        n_train = n - n_hold
        scored: list[tuple[float, CurveFamily]] = []
        for fam in self.families:
            if fam.n_params > n_train:
                continue
            part = fit_curve(xa[:n_train], ya[:n_train], fam)
            err = _rmse(part.predict(xa[n_train:]), ya[n_train:])
            if math.isfinite(err):
                scored.append((err, fam))
        if not scored:  # too few points for any family but the last value
            last = get_family("last_value")
            scored = [(_rmse(np.full(n_hold, ya[n_train - 1]), ya[n_train:]), last)]
        scored.sort(key=lambda t: t[0])
        chosen = scored[: self.top_k]
        floor = 1e-12 + 1e-6 * float(np.ptp(ya))
        raw = np.array([1.0 / (e * e + floor * floor) for e, _ in chosen])
        weights = raw / raw.sum()
        fits = [fit_curve(xa, ya, fam) for _, fam in chosen]
        errors = np.array([e for e, _ in chosen])
        reach = float(np.log(xa[-1]) - np.log(xa[n_train - 1]))
        return FittedEnsemble(fits, weights, errors, float(xa[-1]), max(reach, 1e-12), self.limits)


@dataclass(frozen=True)
class FittedEnsemble:
    fits: list[CurveFit]
    weights: np.ndarray
    holdout_errors: np.ndarray  # held-out RMSE of each member
    x_last: float  # last observed budget
    holdout_reach: float  # log-budget distance the held-out tail was extrapolated over
    limits: tuple[float, float] | None

    @property
    def members(self) -> dict[str, float]:
        return {f.family.name: float(w) for f, w in zip(self.fits, self.weights, strict=True)}

    def predict(self, x: ArrayLike | float, level: float = 0.9) -> CurvePrediction:
        """Mean and central ``level`` band at budgets ``x``."""
        if not 0.0 < level < 1.0:
            raise ValueError(f"level: expected a probability in (0, 1), got {level}")
        xt = np.atleast_1d(np.asarray(x, dtype=float))
        if np.any(~np.isfinite(xt)) or np.any(xt <= 0):
            raise ValueError("x: expected positive finite target budgets")
        P = np.stack([f.predict(xt) for f in self.fits])  # (members, targets)
        last = np.array([f.predict(self.x_last) for f in self.fits]).reshape(-1, 1)
        P = np.where(np.isfinite(P), P, last)  # a blown-up member keeps its last fitted value
        w = self.weights[:, None]
        mean = (w * P).sum(0)
        spread = (w * (P - mean) ** 2).sum(0)
        reach = np.maximum(np.log(xt) - np.log(self.x_last), 0.0) / self.holdout_reach
        grown = np.maximum(reach, 1.0) * self.holdout_errors[:, None]
        noise = np.array([f.rmse for f in self.fits])[:, None] ** 2  # scatter around the fit
        sigma = np.sqrt(spread + (w * (grown**2 + noise)).sum(0))
        z = float(norm.ppf(0.5 + level / 2))
        lower, upper = mean - z * sigma, mean + z * sigma
        if self.limits is not None:
            lo, hi = self.limits
            mean, lower, upper = (np.clip(lo + (hi - lo) * v, lo, hi) for v in (mean, lower, upper))
        return CurvePrediction(xt, mean, lower, upper, level, self.members)


def _rmse(pred: np.ndarray, y: np.ndarray) -> float:
    r = np.asarray(pred, dtype=float) - y
    if not np.all(np.isfinite(r)):
        return float("inf")
    return float(np.sqrt(np.mean(r * r)))


def extrapolate(
    x: ArrayLike,
    y: ArrayLike,
    target: float | ArrayLike,
    *,
    level: float = 0.9,
    limits: tuple[float, float] | None = None,
    families: Sequence[str | CurveFamily] = DEFAULT_ENSEMBLE,
) -> CurvePrediction:
    """One call: fit the default ensemble on ``(x, y)`` and predict at ``target``."""
    return CurveEnsemble(families, limits=limits).fit(x, y).predict(target, level)
