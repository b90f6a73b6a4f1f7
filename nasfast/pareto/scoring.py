"""A found set scored against the exact Pareto front of a fully known benchmark."""

from __future__ import annotations

import numpy as np

from nasfast.pareto.indicators import hypervolume, igd
from nasfast.pareto.sorting import pareto_front


def score_against_exact(
    found: np.ndarray, every: np.ndarray, ref: np.ndarray | None = None
) -> dict[str, float]:
    """Hypervolume ratio, share of the exact Pareto set found, and IGD.

    ``every``: the objectives of every candidate (N, M), ``found``: row indices into it of what a
    search evaluated; minimization form. Both are normalized to [0, 1] per objective over
    ``every``; ``ref`` (normalized) defaults to 1 in each objective (the worst value).
    """
    every = np.asarray(every, dtype=np.float64)
    lo, hi = every.min(axis=0), every.max(axis=0)
    N = (every - lo) / np.where(hi > lo, hi - lo, 1.0)
    ref = np.ones(N.shape[1]) if ref is None else np.asarray(ref, dtype=np.float64)
    exact = np.sort(pareto_front(N))
    idx = np.unique(np.asarray(found, dtype=np.int64))
    idx = idx[pareto_front(N[idx])] if len(idx) else idx
    hv_exact = float(hypervolume(N[exact], ref))
    hv = float(hypervolume(N[idx], ref)) if len(idx) else 0.0
    exact_keys = {tuple(r) for r in N[exact]}
    # a found point equal to an exact front point counts (equal objective vectors tie)
    found_keys = {tuple(r) for r in N[idx]}
    return {
        "hypervolume": hv,
        "hypervolume_exact": hv_exact,
        "hv_ratio": hv / hv_exact if hv_exact > 0 else float("nan"),
        "pareto_found": int(np.isin(exact, idx).sum()),
        "pareto_size": int(len(exact)),
        "pareto_share": float(np.isin(exact, idx).mean()),
        "front_points_found": len(exact_keys & found_keys),
        "igd": float(igd(N[idx], N[exact])) if len(idx) else float("inf"),
    }
