"""Search spaces: a generic discrete space and the NAS-Bench-201 cell space."""

from nasfast.spaces.discrete import Candidate, DiscreteSpace
from nasfast.spaces.nb201 import (
    EDGES,
    OPS,
    CellIndex,
    NB201Space,
    arch_str_to_ops,
    ops_to_arch_str,
)

__all__ = [
    "EDGES",
    "OPS",
    "Candidate",
    "CellIndex",
    "DiscreteSpace",
    "NB201Space",
    "arch_str_to_ops",
    "ops_to_arch_str",
]
