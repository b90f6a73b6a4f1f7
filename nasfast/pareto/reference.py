"""Reference twins of the Pareto kernels: plain numpy, brute force, obviously correct.

They define the semantics the compiled kernels must match and serve ``backend="reference"``.
Costs: ranks O(M N^2) per front peeled, hypervolume O(N * prod of distinct coordinates).
"""

from __future__ import annotations

import itertools

import numpy as np


def dominance_matrix(F: np.ndarray) -> np.ndarray:
    """D[i, j] = row i dominates row j (<= everywhere, < somewhere)."""
    le = (F[:, None, :] <= F[None, :, :]).all(-1)
    lt = (F[:, None, :] < F[None, :, :]).any(-1)
    return le & lt


def rank_reference(F: np.ndarray) -> np.ndarray:
    """Front index of each row by repeatedly peeling the non-dominated rows."""
    n = F.shape[0]
    rank = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return rank
    dom = dominance_matrix(F)
    left = np.ones(n, dtype=bool)
    r = 0
    while left.any():
        front = left & ~dom[left].any(0)
        rank[front] = r
        left &= ~front
        r += 1
    return rank


def crowding_reference(F: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """NSGA-II crowding per front, pymoo's normalization (mean over objectives)."""
    n, m = F.shape
    out = np.zeros(n)
    for r in np.unique(rank):
        idx = np.flatnonzero(rank == r)
        if len(idx) <= 2:
            out[idx] = np.inf
            continue
        G = F[idx]
        d = np.zeros(len(idx))
        for j in range(m):
            order = np.argsort(G[:, j], kind="stable")
            v = G[order, j]
            norm = v[-1] - v[0]
            if norm == 0:
                continue
            last = np.concatenate([[np.inf], np.diff(v) / norm])
            nxt = np.concatenate([np.diff(v) / norm, [np.inf]])
            d[order] += last + nxt
        out[idx] = d / m
    return out


def hypervolume_reference(F: np.ndarray, ref: np.ndarray) -> float:
    """Exact hypervolume by summing the cells of the grid of distinct coordinates."""
    F = F[(F < ref).all(1)]
    if len(F) == 0:
        return 0.0
    m = F.shape[1]
    axes = [np.unique(np.concatenate([F[:, j], [ref[j]]])) for j in range(m)]
    total = 0.0
    for cell in itertools.product(*(range(len(a) - 1) for a in axes)):
        lo = np.array([axes[j][c] for j, c in enumerate(cell)])
        if (F <= lo).all(1).any():
            total += float(np.prod([axes[j][c + 1] - axes[j][c] for j, c in enumerate(cell)]))
    return total
