"""Helpers for the small torch models (MLP ensemble, GCN)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


def tensor32(a: np.ndarray) -> torch.Tensor:
    """float32 copy: enough precision for these small models, and cheaper than float64."""
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


@contextmanager
def single_thread() -> Iterator[None]:
    """Run with one intra-op thread, then restore the caller's setting. These models are too small
    to gain from threads, and on a busy machine extra threads made training ten times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
