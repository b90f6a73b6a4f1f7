"""`nasfast compare` on a user's CSV: strategies over seeds scored against the table's front."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from nasfast.cli.main import main
from nasfast.search import Scalarization, make_strategy, minimize
from nasfast.search.table import TableBenchmark
from nasfast.search.table_compare import compare_on_table


def _write_table(path, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for depth in range(1, 9):
        for width in (8, 16, 24, 32, 48, 64):
            for act in ("relu", "gelu", "silu", "tanh", "elu", "selu"):
                acc = 60 + 3 * depth + width / 4 + rng.normal(scale=2)
                rows.append(
                    {"depth": depth, "width": width, "act": act, "acc": acc, "lat": depth * width}
                )
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


@pytest.fixture
def table(tmp_path):
    rows = _write_table(tmp_path / "t.csv")
    return tmp_path / "t.csv", rows


def test_multi_objective_rows_match_scoring_each_seed_by_hand(table):
    path, rows = table
    bench = TableBenchmark(path, ["depth", "width", "act"], ["max:acc", "min:lat"])
    out = compare_on_table(bench, ["random", "rea"], 30, [0, 1, 2], baseline="random")
    assert [r["strategy"] for r in out] == ["random", "rea"]
    fold = Scalarization("chebyshev")
    by_hand = [
        bench.score(minimize(bench.problem(scalarization=fold), make_strategy("rea"), 30, seed=s))
        for s in (0, 1, 2)
    ]
    assert np.isclose(out[1]["hv_ratio"], np.mean([s["hv_ratio"] for s in by_hand]))
    assert np.isclose(out[1]["igd"], np.mean([s["igd"] for s in by_hand]))
    assert 0 < out[1]["hv_ratio"] < 1 and 0 <= out[1]["pareto_share"] <= 1
    assert "mannwhitney_p" in out[1] and "mannwhitney_p" not in out[0]
    assert 0 < out[1]["mannwhitney_p"] <= 1


def test_single_objective_reports_the_best_value_in_the_objectives_direction(table):
    path, rows = table
    bench = TableBenchmark(path, ["depth", "width", "act"], ["min:lat"])
    full = compare_on_table(bench, ["random"], len(rows), [0, 1])
    assert full[0]["best"] == min(r["lat"] for r in rows)  # every row seen: the optimum
    short = compare_on_table(bench, ["random"], 3, [0, 1])
    assert short[0]["best"] >= full[0]["best"]


def test_cli_prints_a_row_per_strategy(table, capsys):
    path, _ = table
    argv = ["compare", "--table", str(path), "--choices", "depth,width,act"]
    argv += ["--objectives", "max:acc,min:lat", "--strategies", "random,nsga2"]
    assert main(argv + ["--budget", "20", "--seeds", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "288 rows" in out[0] and "hv ratio" in out[1]
    assert out[2].split()[:2] == ["random", "3"] and out[3].split()[:2] == ["nsga2", "3"]
    assert len(out[3].split()) == 6  # name, seeds, hv ratio, share, IGD, p


@pytest.mark.parametrize(
    "change, flag",
    [
        ({"--table": "missing.csv"}, "--table:"),
        ({"--choices": "depth,height"}, "--choices:"),
        ({"--objectives": "max:acc,min:cost"}, "--objectives:"),
        ({"--objectives": "acc,lat"}, "--objectives:"),
        ({"--strategies": "random,magic"}, "--strategies:"),
        ({"--baseline": "rea"}, "--baseline:"),
    ],
)
def test_cli_bad_input_is_one_line_naming_the_flag(table, capsys, change, flag):
    path, _ = table
    opts = {
        "--table": str(path),
        "--choices": "depth,width",
        "--objectives": "max:acc,min:lat",
        "--strategies": "random",
        "--budget": "5",
        "--seeds": "2",
    } | change
    if opts["--table"] == "missing.csv":
        opts["--table"] = str(path.parent / "missing.csv")
    argv = ["compare"] + [x for kv in opts.items() for x in kv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"error: {flag}" in err
