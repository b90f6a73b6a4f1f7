"""Pareto engine: nasfast's non-dominated sort and hypervolume vs moocore and pymoo.

moocore (the C library pymoo 0.6.2 itself calls) ranks with an O(N log N) sort for M = 2, an
O(N log N) method for M = 3 and the O(M N^2) pairwise method for M >= 4; pymoo's
``NonDominatedSorting()`` wraps it, and pymoo's own ``fast_non_dominated_sort`` is Deb's
O(M N^2) in Python. All inputs are uniform random in the unit cube (seed 0).
"""

from __future__ import annotations

import math

import numpy as np

from nasfast.bench.registry import bench_case
from nasfast.pareto import hypervolume, non_dominated_sort


def _points(n: int, m: int) -> np.ndarray:
    return np.random.default_rng(0).random((n, m))


def sort_floor(n: int, m: int) -> str:
    """Least work of a non-dominated sort of n points in m objectives, for the report."""
    mb = n * m * 8 / 1e6
    out = n * 8 / 1e6
    if m <= 3:
        work = f"a sort: >= n log2 n = {n * math.log2(n):.2g} comparisons"
    else:
        work = (
            f"dominance bitsets: (M-1) n^2/128 = {(m - 1) * n * n / 128:.2g} word ANDs "
            f"(pairwise: M n^2/2 = {m * n * n / 2:.2g} comparisons)"
        )
    return f"reads {mb:.2f} MB, writes {out:.2f} MB of ranks; {work}"


def _sort_case(n: int, m: int):
    import moocore

    F = _points(n, m)
    return (lambda: non_dominated_sort(F)), (lambda: moocore.pareto_rank(F))


def _register_sort(n: int, m: int, target: float, quick: bool) -> None:
    label = f"{n // 1000}k"
    bench_case(
        f"pareto rank M={m} N={label} vs moocore",
        group="pareto",
        target=target,
        floor=sort_floor(n, m),
        baseline="moocore",
        quick=quick,
    )(lambda: _sort_case(n, m))


for _m, _target in ((2, 1.0), (3, 1.0), (5, 10.0)):
    for _n, _quick in ((10_000, True), (20_000, False)):
        _register_sort(_n, _m, _target, _quick)


@bench_case(
    "pareto rank M=5 N=10k vs pymoo NonDominatedSorting",
    group="pareto",
    target=10.0,
    floor=sort_floor(10_000, 5),
    baseline="pymoo",
)
def _pymoo_default():
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    F = _points(10_000, 5)
    nds = NonDominatedSorting()
    return (lambda: non_dominated_sort(F)), (lambda: nds.do(F, return_rank=True))


@bench_case(
    "pareto rank M=5 N=500 vs pymoo fast_non_dominated_sort",
    group="pareto",
    floor=sort_floor(500, 5),
    baseline="pymoo (python)",
    quick=False,
)
def _pymoo_python():
    from pymoo.util.nds.fast_non_dominated_sort import fast_non_dominated_sort

    F = _points(500, 5)  # Deb's O(M N^2) in Python: 0.1 s per call here
    return (lambda: non_dominated_sort(F)), (lambda: fast_non_dominated_sort(F))


def _hv_case(n: int, m: int):
    import moocore

    F = _points(n, m)
    ref = np.full(m, 1.1)
    return (lambda: hypervolume(F, ref)), (lambda: moocore.hypervolume(F, ref=ref))


def _register_hv(n: int, m: int, quick: bool) -> None:
    label = f"{n // 1000}k" if n >= 1000 else str(n)
    work = "a sort, O(n log n)" if m <= 3 else "WFG slicing, exponential in M"
    bench_case(
        f"pareto hypervolume M={m} N={label} vs moocore",
        group="pareto",
        floor=f"reads {n * m * 8 / 1e6:.2f} MB; {work}",
        baseline="moocore",
        quick=quick,
    )(lambda: _hv_case(n, m))


for _m, _n, _quick in ((2, 100_000, True), (3, 10_000, True), (4, 1000, False), (5, 200, False)):
    _register_hv(_n, _m, _quick)
