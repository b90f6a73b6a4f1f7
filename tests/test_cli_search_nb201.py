"""``nasfast search STRATEGY --benchmark nb201`` and ``nasfast compare`` end to end."""

from __future__ import annotations

import json

import pytest

from nasfast.spaces import (
    arch_str_to_ops,
)


def _cli(argv, capsys):
    from nasfast.cli.main import main

    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_search_single_objective(tmp_path, capsys):
    rc, out, _ = _cli(
        [
            "search",
            "rea",
            "--benchmark",
            "nb201",
            "--budget",
            "30",
            "--seeds",
            "2",
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert rc == 0 and "200-epoch accuracy of the best found" in out
    data = json.loads((tmp_path / "results.json").read_text())
    assert [r["seed"] for r in data["runs"]] == [0, 1]
    run = data["runs"][0]
    assert set(run) >= {"seed", "best_arch", "final_acc", "history"}
    assert arch_str_to_ops(run["best_arch"]) and len(run["history"]) == 30
    assert (tmp_path / "convergence.png").stat().st_size > 1000


def test_cli_search_multi_objective_and_compare(tmp_path, capsys):
    rc, out, _ = _cli(
        [
            "search",
            "nsga2",
            "--objectives",
            "accuracy,latency:raspi4",
            "--budget",
            "80",
            "--seed",
            "1",
            "--ref",
            "accuracy=85",
            "--out",
            str(tmp_path / "ns"),
        ],
        capsys,
    )
    assert rc == 0 and "exact front (44 cells" in out
    front = json.loads((tmp_path / "ns" / "front.json").read_text())
    assert front["front"] and {"arch", "accuracy", "latency:raspi4"} <= set(front["front"][0])
    assert 0 < front["hypervolume"] <= front["hypervolume_exact"]
    assert (tmp_path / "ns" / "front.png").is_file()
    _cli(
        [
            "search",
            "random",
            "--budget",
            "40",
            "--seeds",
            "3",
            "--quiet",
            "--out",
            str(tmp_path / "rs"),
        ],
        capsys,
    )
    rc, _, err = _cli(["compare", str(tmp_path / "rs"), str(tmp_path / "ns")], capsys)
    assert rc == 2 and "ran with budget=" in err  # another protocol: not one experiment
    _cli(["search", "rea", "--budget", "40", "--seeds", "3", "--quiet", "--out",
          str(tmp_path / "rea")], capsys)  # fmt: skip
    rc, out, _ = _cli(
        ["compare", str(tmp_path / "rs"), str(tmp_path / "rea"), "--out", str(tmp_path / "c")],
        capsys,
    )
    assert rc == 0 and "REA" in out and "valid" in out and "test" in out
    assert (tmp_path / "c" / "compare.json").is_file()


@pytest.mark.parametrize(
    "argv, match",
    [
        (["search", "rea", "--budget", "0"], "budget"),
        (["search", "rea", "--budget", "abc"], "--budget"),
        (["search", "rea", "--objectives", "acuracy"], "metric"),
        (["search", "nsga2", "--objectives", "accuracy,latency:toaster"], "device"),
        (["search", "rea", "--dataset", "mnist"], "dataset"),
        (["search", "rea", "--objectives", "accuracy,params"], "single-objective"),
        (["search", "rea", "--benchmark", "nb101"], "--benchmark"),
        (["compare", "--strategies", "rea,annealing", "--seeds", "2"], "--strategies"),
    ],
)
def test_cli_errors_are_one_line(argv, match, tmp_path, capsys):
    rc, _, err = _cli(argv + (["--out", str(tmp_path)] if argv[0] == "search" else []), capsys)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and match in lines[0] and lines[0].startswith("nasfast ")


def test_cli_compare_runs_strategies_and_scalarized_search(tmp_path, capsys):
    rc, out, _ = _cli(
        [
            "compare",
            "--strategies",
            "random,rea",
            "--budget",
            "30",
            "--seeds",
            "3",
            "--dataset",
            "cifar100",
        ],
        capsys,
    )
    assert rc == 0 and "MWU" in out and "CIFAR-10-searched" in out
    rc, out, _ = _cli(
        [
            "search",
            "local",
            "--objectives",
            "accuracy,latency:pixel3",
            "--scalarise",
            "epsilon",
            "--eps",
            "latency:pixel3=10",
            "--budget",
            "60",
            "--no-plots",
            "--quiet",
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert rc == 0
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["runs"][0]["search_metrics"]["latency:pixel3"] <= 10.0
    assert data["scalarization"].startswith("epsilon")
