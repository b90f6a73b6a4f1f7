"""NB201's zen placeholders (-1e8) are missing values, never numbers."""

from __future__ import annotations

import numpy as np

from nasfast.search import Problem, make_strategy, minimize
from nasfast.tabular import NB201Benchmark


def test_zen_placeholders_are_missing_not_normalized_against():
    bench = NB201Benchmark("cifar10", ["accuracy", "zen"], fidelity=200)
    raw = bench.table.columns["zen_c10"]
    placeholder = np.flatnonzero(raw < -1e7)
    assert len(placeholder) == 341
    lo, hi = bench.bounds()[1]
    assert lo > -1e7 and lo == raw[raw > -1e7].min()
    N = bench.normalized_matrix()
    real = np.isfinite(N[:, 1])
    assert real.sum() == 15625 - 341 and N[real, 1].std() > 0.05  # spread out, not all ~1
    assert not np.isin(placeholder, bench.exact_front()).any()
    cell = bench.table.ops_of(int(placeholder[0]))
    problem = Problem.from_benchmark(bench)
    (out,) = problem.evaluate([cell])
    assert getattr(out, "error", "") == "metric 'zen' is nan"


def test_a_search_on_zen_records_placeholder_cells_as_failures():
    bench = NB201Benchmark("cifar10", ["zen"], fidelity=12)
    res = minimize(Problem.from_benchmark(bench), make_strategy("random"), 300, seed=0,
                   max_failures=None)  # fmt: skip
    assert res.failures and all("zen" in f.error for f in res.failures)
    assert all(e.metrics["zen"] > -1e7 for e in res.history)
