"""Tabular benchmarks: architectures whose metrics are looked up, not trained."""

from nasfast.tabular.nb201 import (
    DATASETS,
    NB201Benchmark,
    NB201Table,
    arch_str_of_index,
    index_of,
    ops_of_index,
)

__all__ = [
    "DATASETS",
    "NB201Benchmark",
    "NB201Table",
    "arch_str_of_index",
    "index_of",
    "ops_of_index",
]
