"""Parametric learning-curve families, written for a rising curve (accuracy vs budget).

``x`` is the budget divided by the first observed budget (so ``x >= 1`` on the observed part; the
fitter does the scaling), ``y`` the score. Each family gives its formula, its source, starting
points computed from the data and box bounds for ``scipy.optimize.least_squares``.

Sources: Domhan, Springenberg and Hutter, "Speeding up automatic hyperparameter optimization of
deep neural networks by extrapolation of learning curves", IJCAI 2015 (the 11 families of its
Table 1: vapor_pressure, pow3, loglog_linear, hill3, log_power, pow4, mmf4, exp4, janoschek,
wbl4, ilog2); Mohr, Viering, Loog and van Rijn, "LCDB 1.0: An extensive learning curves
database for classification tasks", ECML PKDD 2022 (the baselines last1, lin2, exp2, pow2,
log2 and the naming mmf4 / wbl4 / exp4 / pow4). Signs of scale parameters are left free where
the formula allows it, so a family can also follow a falling stretch of a curve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nasfast.estimate.curves import grid_starts

Array = np.ndarray
_EXP_CLIP = 50.0


def _exp(z: Array) -> Array:
    return np.exp(np.clip(z, -_EXP_CLIP, _EXP_CLIP))


@dataclass(frozen=True)
class Scale:
    """Summary of the observed curve that starting points and bounds are built from."""

    first: float  # y at the first point
    last: float  # y at the last point
    lo: float
    hi: float
    span: float  # hi - lo, or a small positive number for a flat curve
    x_last: float  # scaled x of the last point

    @staticmethod
    def of(x: Array, y: Array) -> Scale:
        lo, hi = float(np.min(y)), float(np.max(y))
        span = max(hi - lo, 1e-6 * max(1.0, abs(hi)))
        return Scale(float(y[0]), float(y[-1]), lo, hi, span, float(x[-1]))

    def level_bounds(self) -> tuple[float, float]:
        """Where an asymptote may lie: well beyond the observed range, not unbounded."""
        return self.lo - 10 * self.span, self.hi + 10 * self.span


Starts = Callable[[Array, Array, Scale], list[list[float]]]
Bounds = Callable[[Scale], tuple[list[float], list[float]]]


@dataclass(frozen=True)
class CurveFamily:
    """One parametric family: ``f(x, params)``, with starts and bounds for the fit."""

    name: str
    n_params: int
    formula: str
    source: str
    f: Callable[[Array, Array], Array]
    starts: Starts
    bounds: Bounds
    grid_first: bool = False  # the first start comes from a grid search: trust it if it converges

    def __call__(self, x: Array, params: Array) -> Array:
        with np.errstate(all="ignore"):
            return self.f(np.asarray(x, dtype=float), np.asarray(params, dtype=float))


INF = np.inf
DOMHAN = "Domhan et al. 2015"
LCDB = "Mohr et al. 2022"


def _pow3(x, p):
    c, a, alpha = p
    return c - a * x ** (-alpha)


def _pow4(x, p):
    c, a, d, alpha = p
    return c - a * (x + d) ** (-alpha)


def _log_power(x, p):
    a, b, c = p
    return a / (1.0 + (x / np.exp(b)) ** c)


def _exp4(x, p):
    c, a, b, alpha = p
    return c - _exp(-a * x**alpha + b)


def _mmf4(x, p):
    alpha, beta, kappa, delta = p
    return alpha - (alpha - beta) / (1.0 + (kappa * x) ** delta)


def _wbl4(x, p):
    alpha, beta, kappa, delta = p
    return alpha - (alpha - beta) * _exp(-((kappa * x) ** delta))


def _janoschek(x, p):
    alpha, beta, kappa, delta = p
    return alpha - (alpha - beta) * _exp(-kappa * x**delta)


def _ilog2(x, p):
    c, a = p
    return c - a / np.log(x + 1.0)


def _hill3(x, p):
    ymax, eta, kappa = p
    return ymax * x**eta / (kappa**eta + x**eta)


def _vapor_pressure(x, p):
    a, b, c = p
    return _exp(a + b / x + c * np.log(x))


def _loglog_linear(x, p):
    a, b = p
    return np.log(np.maximum(a * np.log(x) + b, 1e-12))


def _lin2(x, p):
    a, b = p
    return a * x + b


def _exp2(x, p):
    a, b = p
    return a * _exp(b * x)


def _pow2(x, p):
    a, b = p
    return a * x**b


def _log2(x, p):
    a, b = p
    return a * np.log(x) + b


def _last_value(x, p):
    return np.full_like(np.asarray(x, dtype=float), p[0])


def _rise(s: Scale) -> float:
    """Signed rise from the first to the last point (a small positive one when flat)."""
    return s.last - s.first if s.last != s.first else s.span


def _linfit(A: Array, b: Array) -> Array:
    return np.linalg.lstsq(A, b, rcond=None)[0]


def _vp_starts(x, y, s):
    starts = [[np.log(max(s.last, 1e-6)), 0.0, 0.0]]
    if np.all(y > 0):
        A = np.stack([np.ones_like(x), 1.0 / x, np.log(x)], axis=1)
        starts.insert(0, list(_linfit(A, np.log(y))))
    return starts


def _loglog_starts(x, y, s):
    a, b = _linfit(np.stack([np.log(x), np.ones_like(x)], axis=1), np.exp(np.clip(y, -50, 50)))
    return [[max(a, 0.0), max(b, 1e-9)], [0.0, float(np.exp(min(s.last, 50)))]]


def _with_grid(start, data_starts) -> Starts:
    """Starts: the grid-search start first, then the data-derived ones."""

    def starts(x, y, s):
        return [start(x, y), *data_starts(x, y, s)]

    return starts


def _sat_starts(s: Scale, kappa0: float) -> list[list[float]]:
    """Starts for the four-parameter saturating families (alpha, beta, kappa, delta)."""
    top = s.last + 0.5 * abs(_rise(s))
    return [
        [top, s.first, kappa0, 1.0],
        [s.last, s.first, 1.0 / max(s.x_last, 1.0), 0.5],
    ]


def _sat_bounds(s: Scale) -> tuple[list[float], list[float]]:
    lo, hi = s.level_bounds()
    return [lo, lo - 10 * s.span, 1e-8, 1e-3], [hi, hi, 1e4, 10.0]


def _wide(s: Scale) -> float:
    return 1e3 * (s.span + abs(s.hi) + abs(s.lo))


FAMILIES: dict[str, CurveFamily] = {
    f.name: f
    for f in [
        CurveFamily(
            "last_value",
            1,
            "y = c (the last observed value)",
            LCDB + " (last1)",
            _last_value,
            lambda x, y, s: [[s.last]],
            lambda s: ([-INF], [INF]),
        ),
        CurveFamily(
            "pow3",
            3,
            "y = c - a * x^(-alpha)",
            DOMHAN,
            _pow3,
            _with_grid(
                grid_starts.pow3_start,
                lambda x, y, s: [[s.last + 0.1 * abs(_rise(s)), _rise(s), 0.5]],
            ),
            lambda s: (
                [s.level_bounds()[0], -_wide(s), 1e-4],
                [s.level_bounds()[1], _wide(s), 5.0],
            ),
            grid_first=True,
        ),
        CurveFamily(
            "pow4",
            4,
            "y = c - a * (x + d)^(-alpha)",
            DOMHAN + "; form of " + LCDB,
            _pow4,
            _with_grid(
                grid_starts.pow4_start,
                lambda x, y, s: [[s.last + 0.1 * abs(_rise(s)), _rise(s), 0.0, 0.5]],
            ),
            lambda s: (
                [s.level_bounds()[0], -_wide(s), -0.99, 1e-4],
                [s.level_bounds()[1], _wide(s), 1e3, 5.0],
            ),
            grid_first=True,
        ),
        CurveFamily(
            "log_power",
            3,
            "y = a / (1 + (x / e^b)^c)",
            DOMHAN,
            _log_power,
            lambda x, y, s: [
                [s.last + 0.1 * abs(_rise(s)), 0.0, -1.0],
                [s.hi, np.log(max(s.x_last, 1.0)) / 2, -0.5],
            ],
            lambda s: ([-_wide(s), -20.0, -10.0], [_wide(s), 20.0, 10.0]),
        ),
        CurveFamily(
            "exp4",
            4,
            "y = c - exp(-a * x^alpha + b)",
            DOMHAN,
            _exp4,
            _with_grid(
                grid_starts.exp4_start,
                lambda x, y, s: [
                    [s.last + 0.1 * s.span, 0.5, np.log(max(s.span, 1e-9)) + 0.5, 0.5]
                ],
            ),
            lambda s: (
                [s.level_bounds()[0], 0.0, -50.0, 1e-3],
                [s.level_bounds()[1], 1e3, 50.0, 5.0],
            ),
            grid_first=True,
        ),
        CurveFamily(
            "mmf4",
            4,
            "y = alpha - (alpha - beta) / (1 + (kappa * x)^delta)",
            DOMHAN,
            _mmf4,
            _with_grid(
                lambda x, y: grid_starts.saturating_start("mmf4", x, y),
                lambda x, y, s: _sat_starts(s, 1.0)[:1],
            ),
            _sat_bounds,
            grid_first=True,
        ),
        CurveFamily(
            "wbl4",
            4,
            "y = alpha - (alpha - beta) * exp(-(kappa * x)^delta)",
            DOMHAN + " (weibull)",
            _wbl4,
            _with_grid(
                lambda x, y: grid_starts.saturating_start("wbl4", x, y),
                lambda x, y, s: _sat_starts(s, 1.0 / max(s.x_last, 1.0))[:1],
            ),
            _sat_bounds,
            grid_first=True,
        ),
        CurveFamily(
            "janoschek",
            4,
            "y = alpha - (alpha - beta) * exp(-kappa * x^delta)",
            DOMHAN,
            _janoschek,
            _with_grid(
                lambda x, y: grid_starts.saturating_start("janoschek", x, y),
                lambda x, y, s: _sat_starts(s, 1.0 / max(s.x_last, 1.0))[:1],
            ),
            _sat_bounds,
            grid_first=True,
        ),
        CurveFamily(
            "ilog2",
            2,
            "y = c - a / log(x + 1)",
            DOMHAN + " (log(x + 1) keeps the first budget finite)",
            _ilog2,
            lambda x, y, s: [[s.last + 0.1 * abs(_rise(s)), _rise(s)]],
            lambda s: ([-_wide(s), -_wide(s)], [_wide(s), _wide(s)]),
        ),
        CurveFamily(
            "hill3",
            3,
            "y = ymax * x^eta / (kappa^eta + x^eta)",
            DOMHAN,
            _hill3,
            lambda x, y, s: [
                [s.hi + 0.1 * s.span, 1.0, 1.0],
                [s.hi, 2.0, max(s.x_last, 1.0) / 4],
            ],
            lambda s: ([-_wide(s), 1e-3, 1e-6], [_wide(s), 10.0, 1e6]),
        ),
        CurveFamily(
            "vapor_pressure",
            3,
            "y = exp(a + b / x + c * log(x))",
            DOMHAN,
            _vapor_pressure,
            _vp_starts,
            lambda s: ([-50.0, -50.0, -5.0], [50.0, 50.0, 5.0]),
        ),
        CurveFamily(
            "loglog_linear",
            2,
            "y = log(a * log(x) + b)",
            DOMHAN,
            _loglog_linear,
            _loglog_starts,
            lambda s: ([0.0, 1e-12], [INF, INF]),
        ),
        CurveFamily(
            "lin2",
            2,
            "y = a * x + b",
            LCDB,
            _lin2,
            lambda x, y, s: [[_rise(s) / max(s.x_last - 1.0, 1.0), s.first]],
            lambda s: ([-INF, -INF], [INF, INF]),
        ),
        CurveFamily(
            "exp2",
            2,
            "y = a * exp(b * x)",
            LCDB,
            _exp2,
            lambda x, y, s: [[s.first if s.first != 0 else s.span, 0.0]],
            lambda s: ([-_wide(s), -10.0], [_wide(s), 10.0]),
        ),
        CurveFamily(
            "pow2",
            2,
            "y = a * x^b",
            LCDB,
            _pow2,
            lambda x, y, s: [[s.first if s.first != 0 else s.span, 0.1]],
            lambda s: ([-_wide(s), -5.0], [_wide(s), 5.0]),
        ),
        CurveFamily(
            "log2",
            2,
            "y = a * log(x) + b",
            LCDB,
            _log2,
            lambda x, y, s: [[_rise(s) / max(np.log(s.x_last), 1e-3), s.first]],
            lambda s: ([-INF, -INF], [INF, INF]),
        ),
    ]
}

# The families the ensemble draws on by default: Domhan's eleven and the last value.
DEFAULT_ENSEMBLE = (
    "last_value",
    "pow3",
    "pow4",
    "log_power",
    "exp4",
    "mmf4",
    "wbl4",
    "janoschek",
    "ilog2",
    "hill3",
    "vapor_pressure",
    "loglog_linear",
)


def get_family(name: str | CurveFamily) -> CurveFamily:
    """A family by name (ValueError listing the names when unknown)."""
    if isinstance(name, CurveFamily):
        return name
    if name not in FAMILIES:
        raise ValueError(f"family: expected one of {', '.join(FAMILIES)}, got {name!r}")
    return FAMILIES[name]
