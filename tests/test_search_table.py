"""A user's own table scored as nasfast scores NAS-Bench-201."""

from __future__ import annotations

import csv

import numpy as np

from nasfast.pareto import pareto_front
from nasfast.search import make_strategy, minimize
from nasfast.search.table import TableBenchmark
from nasfast.tabular import NB201Benchmark


def _write_table(path, rng):
    rows = []
    for a in range(4):
        for b in ("x", "y", "z"):
            for w in (8, 16, 32):
                if (a, b) == (3, "z"):
                    continue  # not in the table: invalid
                acc = 50 + 10 * a + w / 4 + rng.normal()
                rows.append({"a": a, "b": b, "w": w, "acc": acc, "lat": w * (a + 1)})
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def test_a_csv_table_is_searched_and_scored_against_its_exact_front(tmp_path):
    rows = _write_table(tmp_path / "t.csv", np.random.default_rng(0))
    bench = TableBenchmark(tmp_path / "t.csv", ["a", "b", "w"], ["max:acc", "min:lat"])
    assert bench.space.count_valid() == len(rows) == 33
    res = minimize(bench.problem(), make_strategy("random"), 33, seed=0)
    full = bench.score(res)
    assert full["hv_ratio"] == 1.0 and full["pareto_share"] == 1.0 and full["igd"] == 0.0
    part = minimize(bench.problem(), make_strategy("nsga2", pop_size=4), 8, seed=0)
    s = bench.score(part)
    assert 0 < s["hv_ratio"] < 1 and s["pareto_found"] <= s["pareto_size"]
    F = np.array([[-float(r["acc"]), float(r["lat"])] for r in rows])
    assert s["pareto_size"] == len(pareto_front(F))


def test_the_nb201_table_as_a_user_table_scores_like_nb201():
    bench = NB201Benchmark("cifar10", ["accuracy", "params"], fidelity=200)
    t = bench.table
    data = {f"e{i}": t.ops[:, i].tolist() for i in range(6)}
    data["acc"] = t.columns["acc200_val_c10valid"].tolist()
    data["params"] = t.columns["params_M_c10"].tolist()
    user = TableBenchmark(data, [f"e{i}" for i in range(6)], ["max:acc", "min:params"])
    res = minimize(user.problem(), make_strategy("random"), 50, seed=0)
    idx = [t.index_of(e.candidate) for e in res.history]
    ours = bench.score_front(idx, bench.reference_point())
    theirs = user.score(res)
    for k in ("hv_ratio", "pareto_found", "pareto_size", "igd"):
        assert np.isclose(ours[k], theirs[k]), k
