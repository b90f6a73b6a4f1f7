"""Pareto-front helpers used by the searches, on nasfast's Pareto engine (:mod:`nasfast.pareto`).

Everything here takes objectives in minimisation form, shape (N, M).
"""

from __future__ import annotations

import numpy as np

from nasfast import pareto


def pareto_front(F: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``F`` (identical rows all kept)."""
    F = np.ascontiguousarray(F, dtype=np.float64)
    if len(F) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(pareto.pareto_front(F), dtype=np.int64)


def hypervolume(F: np.ndarray, ref: np.ndarray) -> float:
    """Exact hypervolume dominated by ``F`` up to ``ref`` (points not better than ref add 0)."""
    F = np.ascontiguousarray(F, dtype=np.float64)
    if len(F) == 0:
        return 0.0
    return float(pareto.hypervolume(F, np.asarray(ref, dtype=np.float64)))


def igd(F: np.ndarray, front: np.ndarray) -> float:
    """Inverted generational distance of ``F`` to the reference ``front``."""
    return float(
        pareto.igd(
            np.ascontiguousarray(F, dtype=np.float64), np.ascontiguousarray(front, np.float64)
        )
    )
