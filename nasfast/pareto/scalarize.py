"""Scalarizations of (N, M) objective values into one value per row (smaller is better)."""

from __future__ import annotations

import numpy as np
import torch

from nasfast.pareto._input import Maximize, as_matrix, as_vector, maximize_mask, minimized

Vec = np.ndarray | torch.Tensor | list[float]


def _weights(w: Vec, m: int, device: torch.device) -> torch.Tensor:
    t = as_vector(w, "weights", m, device)
    if bool((t < 0).any()):
        raise ValueError("weights: expected non-negative weights")
    return t


def weighted_sum(
    F: np.ndarray | torch.Tensor, weights: Vec, *, maximize: Maximize = None
) -> np.ndarray | torch.Tensor:
    """``sum_j w_j f_j`` per row (maximized objectives enter negated)."""
    t, kind = as_matrix(F, "F")
    w = _weights(weights, t.shape[1], t.device)
    t = minimized(t, maximize_mask(maximize, t.shape[1]))
    return kind.out(t @ w)


def chebyshev(
    F: np.ndarray | torch.Tensor,
    weights: Vec,
    *,
    ideal: Vec | None = None,
    rho: float = 0.0,
    maximize: Maximize = None,
) -> np.ndarray | torch.Tensor:
    """Weighted Chebyshev distance to the ideal point: ``max_j w_j |f_j - z_j|``, plus
    ``rho * sum_j w_j |f_j - z_j|`` (augmented when ``rho > 0``). ``ideal`` defaults to the
    column-wise best of ``F``; it is given in the caller's orientation (not negated)."""
    t, kind = as_matrix(F, "F")
    m = t.shape[1]
    w = _weights(weights, m, t.device)
    mask = maximize_mask(maximize, m)
    t = minimized(t, mask)
    if ideal is None:
        if t.shape[0] == 0:
            return kind.out(torch.empty(0, dtype=torch.float64))
        z = t.min(dim=0).values
    else:
        z = minimized(as_vector(ideal, "ideal", m, t.device).reshape(1, -1), mask).reshape(-1)
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho: expected a finite value >= 0, got {rho}")
    d = (t - z).abs() * w
    out = d.max(dim=1).values if t.shape[0] else torch.empty(0, dtype=torch.float64)
    if rho:
        out = out + rho * d.sum(dim=1)
    return kind.out(out)


def epsilon_constraint(
    F: np.ndarray | torch.Tensor,
    objective: int,
    eps: Vec,
    *,
    maximize: Maximize = None,
) -> np.ndarray | torch.Tensor:
    """``f_objective`` for rows meeting ``f_j <= eps_j`` for every other objective j, ``+inf`` for
    the others (so argmin picks the epsilon-constraint optimum). ``eps`` has M entries (the one at
    ``objective`` is ignored); for a maximized objective the bound reads ``f_j >= eps_j`` and the
    value returned is ``-f_objective`` when that one is maximized (smaller is better)."""
    t, kind = as_matrix(F, "F")
    m = t.shape[1]
    if not isinstance(objective, (int, np.integer)) or not -m <= objective < m:
        raise ValueError(f"objective: expected an objective index in [0, {m}), got {objective!r}")
    objective = int(objective) % m
    mask = maximize_mask(maximize, m)
    e = minimized(as_vector(eps, "eps", m, t.device).reshape(1, -1), mask).reshape(-1)
    t = minimized(t, mask)
    others = torch.ones(m, dtype=torch.bool, device=t.device)
    others[objective] = False
    ok = (t[:, others] <= e[others]).all(dim=1)
    out = torch.where(ok, t[:, objective], torch.full_like(t[:, objective], float("inf")))
    return kind.out(out)
