"""What this build of nasfast contains: versions, compiled backends, threads, registered ops."""

from __future__ import annotations

from typing import Any

import torch

from nasfast._ext import _C
from nasfast._version import __version__


def registered_ops() -> list[str]:
    """Names of the ops this build registered under torch.ops.nasfast, sorted."""
    names = torch._C._dispatch_get_all_op_names()
    return sorted(n.split("::", 1)[1] for n in names if n.startswith("nasfast::"))


def build_info() -> dict[str, Any]:
    """A dict describing this build; `nasfast info` prints it."""
    backends = list(_C.compiled_backends())
    return {
        "nasfast": __version__,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "compiled_backends": backends,
        "cuda_available": torch.cuda.is_available(),
        "cuda_kernels_usable": "cuda" in backends and torch.cuda.is_available(),
        "openmp": bool(_C.openmp_enabled()),
        "num_threads": int(_C.num_threads()),
        "cpu_cache_bytes": int(_C.cpu_cache_bytes()),
        "registered_ops": registered_ops(),
    }
