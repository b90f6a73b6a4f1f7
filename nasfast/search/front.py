"""Pareto-front helpers used by the searches: routed to :mod:`nasfast.pareto` when present.

Everything here takes objectives in minimisation form, shape (N, M).
"""

from __future__ import annotations

import numpy as np

try:  # nasfast's compiled Pareto engine (issue 5)
    from nasfast import pareto as _engine
except ImportError:  # pragma: no cover - until the Pareto engine is merged
    _engine = None


def pareto_front(F: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``F`` (identical rows all kept)."""
    F = np.asarray(F, dtype=float)
    if len(F) == 0:
        return np.zeros(0, dtype=np.int64)
    if _engine is not None:
        return np.asarray(_engine.pareto_front(F), dtype=np.int64)
    import moocore

    return np.flatnonzero(moocore.is_nondominated(F, keep_weakly=True))


def hypervolume(F: np.ndarray, ref: np.ndarray) -> float:
    """Exact hypervolume dominated by ``F`` up to ``ref`` (points not better than ref add 0)."""
    F = np.asarray(F, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if len(F) == 0:
        return 0.0
    if _engine is not None:
        return float(_engine.hypervolume(F, ref))
    import moocore

    F = F[(F < ref).all(axis=1)]
    return float(moocore.hypervolume(F, ref=ref)) if len(F) else 0.0


def igd(F: np.ndarray, front: np.ndarray) -> float:
    """Inverted generational distance of ``F`` to the reference ``front``."""
    if _engine is not None:
        return float(_engine.igd(np.asarray(F, dtype=float), np.asarray(front, dtype=float)))
    from pymoo.indicators.igd import IGD

    return float(IGD(np.asarray(front, dtype=float))(np.asarray(F, dtype=float)))
