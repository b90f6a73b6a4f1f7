"""pytest-benchmark view of the registered cases: each case's fast and baseline callables.

Run: ``python -m pytest benchmarks --benchmark-min-rounds=50 --benchmark-group-by=group``.
The interleaved ratio that README quotes comes from ``nasfast bench`` (same registry).
"""

import pytest

from nasfast.bench import all_cases

CASES = [c for c in all_cases() if c.device == "cpu"]


@pytest.mark.parametrize("which", ["fast", "baseline"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(benchmark, case, which):
    fast, base = case.setup()
    benchmark.group = case.name
    benchmark.extra_info["baseline"] = case.baseline
    benchmark(fast if which == "fast" else base)
