"""Input handling shared by nasfast.pareto: numpy or torch (N, M) in, float64 tensor out.

A C-contiguous float64 numpy array or CPU tensor is passed to the kernels without a copy
(``torch.from_numpy`` shares the memory); other dtypes or layouts are converted once. Results go
back in the caller's kind: numpy in, numpy out; tensor in, tensor out on the input's device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

Maximize = Sequence[int] | Sequence[bool] | np.ndarray | torch.Tensor | None


@dataclass(frozen=True)
class Kind:
    """How the caller passed its data: numpy or torch, and on which device."""

    numpy: bool
    device: torch.device

    def out(self, t: torch.Tensor) -> np.ndarray | torch.Tensor:
        if self.numpy:
            return t.cpu().numpy()
        return t.to(self.device)


def _to_tensor(x: object, name: str) -> tuple[torch.Tensor, Kind]:
    if isinstance(x, torch.Tensor):
        kind = Kind(numpy=False, device=x.device)
        t = x.detach()
    elif isinstance(x, np.ndarray) or isinstance(x, (list, tuple)):
        arr = np.asarray(x)
        if arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
        ):
            raise ValueError(f"{name}: expected numeric values, got dtype {arr.dtype}")
        kind = Kind(numpy=True, device=torch.device("cpu"))
        if arr.dtype != np.float64 or not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr, dtype=np.float64)
        t = torch.from_numpy(arr)
    else:
        raise ValueError(
            f"{name}: expected a numpy array or torch tensor of shape (N, M), "
            f"got {type(x).__name__}"
        )
    if t.is_complex():
        raise ValueError(f"{name}: expected real values, got dtype {t.dtype}")
    return t, kind


def as_matrix(
    x: object, name: str, *, m: int | None = None, check_finite: bool = True
) -> tuple[torch.Tensor, Kind]:
    """(N, M) float64 contiguous tensor (no copy when possible), checked finite.

    ``check_finite=False`` leaves the check of a CPU tensor to the compiled op it goes to (the
    ``pareto_*`` ops raise the same ValueError), sparing a pass over the data.
    """
    t, kind = _to_tensor(x, name)
    if t.dim() != 2:
        raise ValueError(f"{name}: expected shape (N, M), got {tuple(t.shape)}")
    if t.shape[1] < 1:
        raise ValueError(f"{name}: expected at least one objective (M >= 1), got {tuple(t.shape)}")
    if m is not None and t.shape[1] != m:
        raise ValueError(f"{name}: expected {m} objectives (columns), got {t.shape[1]}")
    if t.dtype != torch.float64:
        t = t.to(torch.float64)
    t = t.contiguous()
    if (check_finite or t.device.type != "cpu") and t.numel() and not all_finite(t):
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return t, kind


def all_finite(t: torch.Tensor) -> bool:
    # numpy on the CPU: single-threaded, no intra-op thread pool wake-up for a cheap pass.
    if t.device.type == "cpu":
        return bool(np.isfinite(t.numpy()).all())
    return bool(torch.isfinite(t).all())


def as_vector(x: object, name: str, m: int, device: torch.device) -> torch.Tensor:
    """A length-m float64 vector (a reference point, weights, bounds), checked finite."""
    if isinstance(x, (int, float)):
        x = [float(x)] * m
    if isinstance(x, torch.Tensor):
        t = x.detach()
        if t.dim() <= 1:
            t = t.to(device=device, dtype=torch.float64).reshape(-1)
    else:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: expected {m} numbers, got {x!r}") from None
        if arr.ndim <= 1:
            arr = np.ascontiguousarray(arr.reshape(-1))
        t = torch.from_numpy(arr)
        if device.type != "cpu":
            t = t.to(device)
    if t.dim() != 1 or t.shape[0] != m:
        raise ValueError(f"{name}: expected shape ({m},), got {tuple(t.shape)}")
    t = t.contiguous()
    if not all_finite(t):
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return t


def maximize_mask(maximize: Maximize, m: int) -> torch.Tensor | None:
    """Boolean mask of the objectives to maximize, from indices or booleans; None if none."""
    if maximize is None:
        return None
    if isinstance(maximize, bool):
        return torch.full((m,), maximize, dtype=torch.bool) if maximize else None
    vals = np.asarray(maximize.cpu() if isinstance(maximize, torch.Tensor) else maximize)
    if vals.ndim != 1:
        raise ValueError(f"maximize: expected a 1-D list of objective indices or {m} booleans")
    if vals.dtype == np.bool_:
        if vals.shape[0] != m:
            raise ValueError(
                f"maximize: expected {m} booleans (one per objective), got {len(vals)}"
            )
        mask = torch.from_numpy(vals.copy())
    else:
        if vals.size and not np.issubdtype(vals.dtype, np.integer):
            raise ValueError(f"maximize: expected objective indices or booleans, got {vals.dtype}")
        mask = torch.zeros(m, dtype=torch.bool)
        for j in vals.tolist():
            if not -m <= j < m:
                raise ValueError(f"maximize: objective index {j} out of range for M = {m}")
            mask[j] = True
    return mask if bool(mask.any()) else None


def minimized(t: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """t with the maximized columns negated (a copy only when some are maximized)."""
    if mask is None:
        return t
    sign = torch.where(mask.to(t.device), -1.0, 1.0).to(t.dtype)
    return (t * sign).contiguous()
