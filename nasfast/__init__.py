"""nasfast: neural-architecture search whose hot paths are compiled kernels."""

from nasfast import ops, pareto
from nasfast._version import __version__
from nasfast.build_info import build_info

__all__ = ["__version__", "build_info", "ops", "pareto"]
