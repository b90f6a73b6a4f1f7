"""The NAS-Bench-201 table and benchmark: encodings against the table, metrics, fronts."""

from __future__ import annotations

import itertools

import pytest

from nasfast.search import (
    Problem,
    make_strategy,
    minimize,
)
from nasfast.spaces import (
    NB201Space,
    arch_str_to_ops,
    ops_to_arch_str,
)
from nasfast.tabular import NB201Benchmark, NB201Table, index_of, ops_of_index


@pytest.fixture(scope="module")
def table() -> NB201Table:
    return NB201Table.load()


def test_encodings_round_trip_all_cells(table):
    space = NB201Space()
    seen = set()
    for i in range(15625):
        ops = ops_of_index(i)
        arch = ops_to_arch_str(ops)
        assert arch == table.arch_strs[i]
        assert arch_str_to_ops(arch) == ops
        assert index_of(arch) == i and index_of(ops) == i
        assert space.parse(arch) == ops and space.parse("".join(map(str, ops))) == ops
        seen.add(ops)
    assert len(seen) == 15625 == space.size
    assert set(itertools.product(range(5), repeat=6)) == seen


def test_bad_index():
    with pytest.raises(ValueError, match="^index: "):
        ops_of_index(15625)


def test_benchmark_space_reads_official_indices(table):
    bench = NB201Benchmark("cifar10")
    assert bench.space.parse(1459) == bench.space.parse("1459") == table.ops_of(1459)
    assert bench.space.bench_index(table.ops_of(77)) == 77


def test_table_metrics_and_errors(table):
    assert table.resolve("accuracy", "cifar10", 12).column == "acc12_cifar10_val"
    assert table.resolve("accuracy", "cifar100", 200).column == "acc200_val_c100"
    assert table.resolve("latency:raspi4").column == "lat_ms_raspi4"
    assert not table.resolve("params", "imagenet16").maximize
    assert table.best("acc200_val_c10valid") == (1459, 91.57)
    for metric, dataset, fid, match in [
        ("acuracy", "cifar10", 12, "^metric: "),
        ("latency:raspi5", "cifar10", 12, "^device: "),
        ("latency", "cifar10", 12, "^device: "),
        ("accuracy", "mnist", 12, "^dataset: "),
        ("accuracy", "cifar10", 50, "^fidelity: "),
    ]:
        with pytest.raises(ValueError, match=match) as e:
            table.resolve(metric, dataset, fid)
        assert "\n" not in str(e.value)


def test_benchmark_queries_and_protocol(table):
    bench = NB201Benchmark("cifar10")  # 12-epoch validation accuracy
    out = bench([(3, 3, 4, 1, 3, 1), ops_of_index(0)])
    assert bench.n_queries == 2
    i = index_of((3, 3, 4, 1, 3, 1))
    assert out[0]["accuracy"] == table.columns["acc12_cifar10_val"][i]
    assert out[0]["final_acc"] == table.columns["acc200_val_c10valid"][i]
    assert out[1]["index"] == 0
    # the best is chosen by the 12-epoch accuracy, the reported number is its 200-epoch accuracy
    res = minimize(Problem.from_benchmark(bench), make_strategy("rea"), 60, seed=3)
    best = max(res.history, key=lambda e: e.metrics["accuracy"])
    assert res.best is best
    assert (
        res.best.metrics["final_acc"] == table.columns["acc200_val_c10valid"][best.metrics["index"]]
    )


def test_benchmark_exact_front_and_scoring():
    bench = NB201Benchmark("cifar10", ["accuracy", "latency:raspi4"], fidelity=200)
    front = bench.exact_front()
    N = bench.normalized_matrix()
    assert N.min() == 0.0 and N.max() == 1.0
    # brute force: no row dominates a front row
    for i in front[:10]:
        assert not ((N <= N[i]).all(axis=1) & (N < N[i]).any(axis=1)).any()
    ref = bench.reference_point({"accuracy": 85.0})
    s = bench.score_front(front, ref)
    assert s["hv_ratio"] == pytest.approx(1.0) and s["pareto_share"] == 1.0
    s = bench.score_front(front[:5], ref)
    assert s["hv_ratio"] < 1.0 and s["pareto_found"] == 5
