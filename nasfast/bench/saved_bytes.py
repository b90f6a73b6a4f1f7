"""Bytes autograd keeps for backward, counted with ``torch.autograd.graph.saved_tensors_hooks``."""

from __future__ import annotations

from collections.abc import Callable

import torch


def saved_tensor_bytes(fn: Callable[[], object]) -> tuple[int, int]:
    """Run ``fn()`` (a forward pass) and return ``(unique, total)`` bytes saved for backward.

    ``unique`` counts each storage once (a tensor saved by two nodes, or a view of a saved
    tensor, is one allocation); ``total`` sums every saved tensor as packed. Parameters and
    other tensors that outlive the step are counted too, as autograd holds them either way.
    """
    seen: dict[tuple[int, int], int] = {}
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        nbytes = t.untyped_storage().nbytes() if t.numel() else 0
        total += t.numel() * t.element_size()
        key = (t.untyped_storage().data_ptr(), nbytes)
        seen[key] = nbytes
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    del out
    return sum(seen.values()), total
