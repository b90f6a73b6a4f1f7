"""``nasfast compare DIR...``: one protocol per comparison, a known baseline."""

from __future__ import annotations

import argparse
import json

import pytest

from nasfast.cli.compare import run
from nasfast.tabular.compare import read_results


def _results(path, strategy, budget=20, objectives=("accuracy",), fidelity=12):
    path.mkdir()
    runs = [
        {"seed": s, "final_acc": 90.0 + s, "history": [{"incumbent_final_acc": 90.0 + s}]}
        for s in range(3)
    ]
    data = {"benchmark": "nb201", "dataset": "cifar10", "strategy": strategy, "budget": budget,
            "objectives": list(objectives), "fidelity": fidelity,
            "final_metric": "acc200_val_c10valid", "runs": runs}  # fmt: skip
    (path / "results.json").write_text(json.dumps(data))
    return path


def _args(dirs, baseline=None):
    return argparse.Namespace(dirs=[str(d) for d in dirs], baseline=baseline, dataset="cifar10",
                              out=None, table=None)  # fmt: skip


def test_runs_with_different_budgets_or_protocols_are_refused(tmp_path):
    a = _results(tmp_path / "a", "rea")
    b = _results(tmp_path / "b", "random", budget=200)
    with pytest.raises(ValueError, match=r"^dirs: .*b ran with budget=200, .*a with 20"):
        read_results([a, b])
    c = _results(tmp_path / "c", "bo", objectives=("accuracy", "params"), fidelity=200)
    with pytest.raises(ValueError, match=r"^dirs: .*c ran with objectives="):
        read_results([a, c])
    groups, dataset, budget = read_results([a, _results(tmp_path / "d", "random")])
    assert set(groups) == {"rea", "random"} and budget == 20


def test_an_unknown_baseline_is_an_error(tmp_path, capsys):
    dirs = [_results(tmp_path / "a", "rea"), _results(tmp_path / "b", "random")]
    with pytest.raises(ValueError, match=r"^--baseline: 'foo' is not among"):
        run(_args(dirs, "foo"))
    assert run(_args(dirs)) == 0
    assert "p vs random" in capsys.readouterr().out
