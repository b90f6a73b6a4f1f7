"""Least-squares fit of one curve family (``scipy.optimize.least_squares``, several starts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from nasfast.estimate.curves.families import CurveFamily, Scale, get_family

ArrayLike = Sequence[float] | np.ndarray


def check_curve(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (budgets) and ``y`` (scores) as float arrays, or a one-line ValueError."""
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.ndim != 1 or ya.ndim != 1 or len(xa) != len(ya):
        raise ValueError(
            f"x, y: expected two 1-D sequences of equal length, got shapes "
            f"{xa.shape} and {ya.shape}"
        )
    if len(xa) == 0:
        raise ValueError("y: expected at least one observed point, got none")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("x, y: expected finite numbers (no nan or inf)")
    if xa[0] <= 0 or np.any(np.diff(xa) <= 0):
        raise ValueError(f"x: expected positive, strictly increasing budgets, got {xa.tolist()}")
    return xa, ya


@dataclass(frozen=True)
class CurveFit:
    """A fitted family: ``predict(x)`` at any budget (same units as the observed ``x``)."""

    family: CurveFamily
    params: np.ndarray
    x_scale: float  # the first observed budget; the family sees x / x_scale
    rmse: float  # root mean squared residual on the fitted points

    def predict(self, x: ArrayLike | float) -> np.ndarray:
        xs = np.asarray(x, dtype=float) / self.x_scale
        return self.family(xs, self.params)


def fit_curve(x: ArrayLike, y: ArrayLike, family: str | CurveFamily) -> CurveFit:
    """Fit ``family`` to the observed points ``(x, y)`` by bounded least squares.

    Raises a ValueError when there are fewer points than the family has parameters. Several
    starting points are tried and the lowest residual wins, so a noisy or non-monotone curve
    still gets the family's best fit rather than a failed one.
    """
    fam = get_family(family)
    xa, ya = check_curve(x, y)
    if len(xa) < fam.n_params:
        raise ValueError(
            f"y: family {fam.name!r} has {fam.n_params} parameters and needs at least "
            f"{fam.n_params} points, got {len(xa)}"
        )
    x_scale = float(xa[0])
    xs = xa / x_scale
    scale = Scale.of(xs, ya)
    if fam.name == "last_value":
        params = np.array([ya[-1]])
    else:
        params = _best_of_starts(fam, xs, ya, scale)
    resid = fam(xs, params) - ya
    rmse = float(np.sqrt(np.mean(resid**2))) if np.all(np.isfinite(resid)) else float("inf")
    return CurveFit(fam, params, x_scale, rmse)


def _best_of_starts(fam: CurveFamily, xs: np.ndarray, ya: np.ndarray, scale: Scale) -> np.ndarray:
    lo, hi = (np.asarray(b, dtype=float) for b in fam.bounds(scale))
    penalty = 1e3 * (scale.span + abs(scale.hi))

    def residual(p: np.ndarray) -> np.ndarray:
        r = fam(xs, p) - ya
        return np.where(np.isfinite(r), r, penalty)

    best, best_cost = None, np.inf
    for start in fam.starts(xs, ya, scale):
        p0 = _inside(np.asarray(start, dtype=float), lo, hi)
        try:
            sol = least_squares(residual, p0, bounds=(lo, hi), method="trf", max_nfev=25 * len(p0))
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(sol.cost) and sol.cost < best_cost:
            best, best_cost = sol.x, sol.cost
        if fam.grid_first and np.isfinite(sol.cost):  # the grid search's start: near the best
            break
    if best is None:  # every start failed: keep the first start, scored as it is
        best = _inside(np.asarray(fam.starts(xs, ya, scale)[0], dtype=float), lo, hi)
    return best


def _inside(p: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``p`` moved strictly inside the bounds (least_squares needs an interior start)."""
    p = np.where(np.isfinite(p), p, 0.0)
    width = np.where(np.isfinite(hi - lo), hi - lo, 2.0 * (np.abs(p) + 1.0))
    margin = 1e-6 * width
    return np.clip(p, lo + margin, hi - margin)
