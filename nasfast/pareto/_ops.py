"""Fake (meta) registrations of the torch.ops.nasfast.pareto_* ops, and device dispatch."""

from __future__ import annotations

import torch

import nasfast._ext  # noqa: F401  (registers torch.ops.nasfast)


@torch.library.register_fake("nasfast::pareto_rank")
def _rank_fake(F: torch.Tensor) -> torch.Tensor:
    return F.new_empty((F.shape[0],), dtype=torch.int64)


@torch.library.register_fake("nasfast::pareto_crowding")
def _crowding_fake(F: torch.Tensor, rank: torch.Tensor) -> torch.Tensor:
    return F.new_empty((F.shape[0],))


@torch.library.register_fake("nasfast::pareto_hypervolume")
def _hypervolume_fake(F: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    return F.new_empty(())


def has_kernel(op: str, device: torch.device) -> bool:
    """Whether torch.ops.nasfast.<op> has a kernel for this device type in this build."""
    key = "CUDA" if device.type == "cuda" else "CPU"
    return torch._C._dispatch_has_kernel_for_dispatch_key(f"nasfast::{op}", key)


def on_kernel_device(t: torch.Tensor, op: str) -> torch.Tensor:
    """t where op has a kernel: its own device, else the CPU."""
    return t if has_kernel(op, t.device) else t.cpu()
