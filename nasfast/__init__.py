"""nasfast: neural-architecture search whose hot paths are compiled kernels."""

from nasfast import ops, pareto
from nasfast._version import __version__
from nasfast.build_info import build_info
from nasfast.cpu_cache import cpu_cache_bytes, empty_cpu_cache, max_cpu_cache_bytes

__all__ = [
    "__version__",
    "build_info",
    "cpu_cache_bytes",
    "empty_cpu_cache",
    "max_cpu_cache_bytes",
    "ops",
    "pareto",
]
