"""Non-dominated sorting, the first front, and crowding distance."""

from __future__ import annotations

import numpy as np
import torch

from nasfast.pareto import reference
from nasfast.pareto._input import Maximize, as_matrix, maximize_mask, minimized
from nasfast.pareto._ops import on_kernel_device


def _require_backend(backend: str) -> None:
    if backend not in ("fused", "reference"):
        raise ValueError(f"backend: expected 'fused' or 'reference', got {backend!r}")


def _ranks(F: torch.Tensor, backend: str) -> torch.Tensor:
    if backend == "reference":
        return torch.from_numpy(reference.rank_reference(F.cpu().numpy()))
    if F.shape[0] == 0:
        return torch.empty(0, dtype=torch.int64, device=F.device)
    return torch.ops.nasfast.pareto_rank(on_kernel_device(F, "pareto_rank"))


def non_dominated_sort(
    F: np.ndarray | torch.Tensor, *, maximize: Maximize = None, backend: str = "fused"
) -> np.ndarray | torch.Tensor:
    """Front index of each row of ``F`` (N, M): 0 for the non-dominated rows, then 1, ...

    All objectives are minimized except those named by ``maximize`` (indices, or M booleans).
    Identical rows share a rank. Returns int64 ranks as numpy for numpy input, else a tensor on
    ``F``'s device.
    """
    _require_backend(backend)
    t, kind = as_matrix(F, "F", check_finite=backend == "reference")
    t = minimized(t, maximize_mask(maximize, t.shape[1]))
    return kind.out(_ranks(t, backend))


def pareto_front(
    F: np.ndarray | torch.Tensor, *, maximize: Maximize = None, backend: str = "fused"
) -> np.ndarray | torch.Tensor:
    """Indices (ascending) of the rows of ``F`` that no other row dominates."""
    _require_backend(backend)
    t, kind = as_matrix(F, "F", check_finite=backend == "reference")
    t = minimized(t, maximize_mask(maximize, t.shape[1]))
    rank = _ranks(t, backend)
    if kind.numpy:
        return np.flatnonzero(rank.numpy() == 0)
    return kind.out(torch.nonzero(rank == 0).reshape(-1))


def crowding_distance(
    F: np.ndarray | torch.Tensor,
    *,
    rank: np.ndarray | torch.Tensor | None = None,
    maximize: Maximize = None,
    backend: str = "fused",
) -> np.ndarray | torch.Tensor:
    """NSGA-II crowding distance of each row within its front (boundary rows infinite).

    Per front and objective, rows are put in stable order and each gets
    ``(next - previous) / (max - min)``; the sum over objectives is divided by M (pymoo's
    normalization: the order, which is all NSGA-II uses, is Deb's). The first and last row of each
    order get infinity, an objective constant on the front adds 0, fronts of <= 2 rows are
    infinite. ``rank`` (from ``non_dominated_sort``) skips the sort; pass zeros to treat all rows
    as one front.
    """
    _require_backend(backend)
    t, kind = as_matrix(F, "F")
    n = t.shape[0]
    t = minimized(t, maximize_mask(maximize, t.shape[1]))
    if rank is None:
        r = _ranks(t, backend)
    else:
        r = torch.as_tensor(rank.cpu() if isinstance(rank, torch.Tensor) else np.asarray(rank))
        if r.dim() != 1 or r.shape[0] != n:
            raise ValueError(f"rank: expected shape ({n},), got {tuple(r.shape)}")
        if r.dtype.is_floating_point or r.dtype == torch.bool:
            raise ValueError(f"rank: expected integer ranks, got dtype {r.dtype}")
        r = r.to(torch.int64)
        if n and (int(r.min()) < 0 or int(r.max()) >= n):
            raise ValueError("rank: expected values in [0, N)")
    if n == 0:
        return kind.out(torch.empty(0, dtype=torch.float64))
    if backend == "reference":
        out = torch.from_numpy(reference.crowding_reference(t.cpu().numpy(), r.cpu().numpy()))
    else:
        out = torch.ops.nasfast.pareto_crowding(t.cpu(), r.cpu().contiguous())
    return kind.out(out)
