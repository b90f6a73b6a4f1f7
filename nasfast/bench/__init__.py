"""Fused-vs-baseline speed ratios, measured in one process, interleaved, many rounds.

Ops add their cases as modules under ``nasfast.bench.cases`` using :func:`bench_case`; both
``nasfast bench`` and the pytest-benchmark suites in ``benchmarks/`` read the same registry.
"""

from nasfast.bench.registry import Case, all_cases, bench_case
from nasfast.bench.runner import Measurement, measure

__all__ = ["Case", "Measurement", "all_cases", "bench_case", "measure"]
