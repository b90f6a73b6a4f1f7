"""Pareto engine: non-dominated sorting, crowding, exact hypervolume, IGD, scalarization.

All objectives are minimized unless ``maximize=`` names some (indices or M booleans). Inputs are
numpy arrays or torch tensors of shape (N, M); float64 C-contiguous ones reach the compiled
kernels (``torch.ops.nasfast.pareto_*``) without a copy. ``NasfastRankAndCrowding`` plugs the
sort and crowding into pymoo's NSGA-II.
"""

from typing import Any

from nasfast.pareto.indicators import hypervolume, igd
from nasfast.pareto.scalarize import chebyshev, epsilon_constraint, weighted_sum
from nasfast.pareto.sorting import crowding_distance, non_dominated_sort, pareto_front

__all__ = [
    "NasfastNonDominatedSorting",
    "NasfastRankAndCrowding",
    "chebyshev",
    "crowding_distance",
    "epsilon_constraint",
    "hypervolume",
    "igd",
    "non_dominated_sort",
    "pareto_front",
    "weighted_sum",
]


def __getattr__(name: str) -> Any:
    # The pymoo plug-in imports pymoo (slow): load it on first use.
    if name in ("NasfastNonDominatedSorting", "NasfastRankAndCrowding"):
        from nasfast.pareto import pymoo_plugin

        return getattr(pymoo_plugin, name)
    raise AttributeError(f"module 'nasfast.pareto' has no attribute {name!r}")
