"""The cache of freed CPU buffers the fused ops allocate their intermediates from.

glibc returns large freed blocks to the OS, so a loop that runs the same fused op again would
page-fault its intermediates in anew every step (measured: ~20% of a standalone DartsEdge step
at C=16 32x32). The ops therefore keep freed buffers for reuse, like PyTorch's CUDA caching
allocator, up to :func:`max_cpu_cache_bytes`; :func:`empty_cpu_cache` frees them.
"""

from __future__ import annotations

from nasfast._ext import _C


def cpu_cache_bytes() -> int:
    """Bytes of freed CPU buffers held for reuse now."""
    return int(_C.cpu_cache_bytes())


def max_cpu_cache_bytes() -> int:
    """The most bytes of freed CPU buffers the cache holds; beyond it they are freed."""
    return int(_C.max_cpu_cache_bytes())


def empty_cpu_cache() -> None:
    """Free every cached buffer (buffers in use return to the cache when their tensors go)."""
    _C.empty_cpu_cache()
