"""Search spaces: a generic discrete space and the NAS-Bench-201 cell space."""

from nasfast.spaces.discrete import Candidate, DiscreteSpace
from nasfast.spaces.nb201 import (
    EDGES,
    OPS,
    NB201Space,
    arch_str_of_index,
    arch_str_to_ops,
    index_of,
    ops_of_index,
    ops_to_arch_str,
)

__all__ = [
    "EDGES",
    "OPS",
    "Candidate",
    "DiscreteSpace",
    "NB201Space",
    "arch_str_of_index",
    "arch_str_to_ops",
    "index_of",
    "ops_of_index",
    "ops_to_arch_str",
]
