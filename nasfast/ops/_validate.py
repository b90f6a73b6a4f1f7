"""One-line ValueErrors for bad op inputs, shared by the ops' Python entry points."""

from __future__ import annotations

import torch


def require_tensor(x: object, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    return x


def require_floating(x: torch.Tensor, name: str) -> None:
    if not x.is_floating_point():
        raise ValueError(f"{name}: expected a floating-point tensor, got dtype {x.dtype}")


def require_like(x: torch.Tensor, ref: torch.Tensor, name: str, ref_name: str) -> None:
    if x.device != ref.device:
        raise ValueError(f"{name}: expected device {ref.device} (as {ref_name}), got {x.device}")
    if x.dtype != ref.dtype:
        raise ValueError(f"{name}: expected dtype {ref.dtype} (as {ref_name}), got {x.dtype}")


def require_backend(backend: str) -> None:
    if backend not in ("fused", "reference"):
        raise ValueError(f"backend: expected 'fused' or 'reference', got {backend!r}")
