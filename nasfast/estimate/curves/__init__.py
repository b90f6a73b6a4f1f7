"""Learning-curve extrapolation: parametric families, least-squares fits, a weighted ensemble.

>>> from nasfast.estimate.curves import extrapolate
>>> p = extrapolate([1, 2, 3, 4, 5, 6], [52, 61, 66, 69, 71, 72.5], target=50, limits=(0, 100))
>>> p.at()                           # (mean, lower, upper) of the accuracy at 50 epochs
"""

from nasfast.estimate.curves.ensemble import (
    CurveEnsemble,
    CurvePrediction,
    FittedEnsemble,
    extrapolate,
)
from nasfast.estimate.curves.families import DEFAULT_ENSEMBLE, FAMILIES, CurveFamily, get_family
from nasfast.estimate.curves.fit import CurveFit, fit_curve

__all__ = [
    "DEFAULT_ENSEMBLE",
    "FAMILIES",
    "CurveEnsemble",
    "CurveFamily",
    "CurveFit",
    "CurvePrediction",
    "FittedEnsemble",
    "extrapolate",
    "fit_curve",
    "get_family",
]
