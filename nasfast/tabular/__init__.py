"""Tabular benchmarks: architectures whose metrics are looked up, not trained."""

from nasfast.tabular.nb201 import DATASETS, NB201Benchmark, NB201Table

__all__ = ["DATASETS", "NB201Benchmark", "NB201Table"]
