"""Accuracy reached vs evaluations spent, per strategy (`nasfast compare --curve`)."""

from __future__ import annotations

import numpy as np
import pytest

from nasfast.cli.main import main
from nasfast.tabular.curve import accuracy_at, curve_lines, parse_checkpoints


def _run(accs):
    best = np.maximum.accumulate(accs)
    return {"history": [{"incumbent_final_acc": float(b)} for b in best]}


def test_accuracy_at_is_the_mean_incumbent_after_each_count():
    groups = {
        "a": [_run([80, 85, 83, 90]), _run([70, 88, 89, 86])],
        "b": [_run([91, 60]), _run([50, 60, 70, 75])],  # a run that stopped after 2 evaluations
    }
    got = accuracy_at(groups, [1, 2, 4])
    assert got["a"] == [75.0, 86.5, 89.5]
    assert got["b"] == [70.5, 75.5, 83.0]  # the stopped run keeps its last incumbent (91)
    lines = curve_lines(got, [1, 2, 4])
    assert lines[1].split() == ["strategy", "N=1", "N=2", "N=4"]
    assert lines[3].split() == ["b", "70.50", "75.50", "83.00"]


@pytest.mark.parametrize("text", ["", "0,5", "5,11", "a,5"])
def test_bad_checkpoints_are_refused(text):
    with pytest.raises(ValueError, match="^curve: expected"):
        parse_checkpoints(text, 10)


def test_cli_curve_prints_one_row_per_strategy_and_checks_the_flag(capsys):
    argv = ["compare", "--strategies", "random,rea", "--budget", "12", "--seeds", "2"]
    assert main(argv + ["--curve", "4,12"]) == 0
    out = capsys.readouterr().out.splitlines()
    i = out.index("mean best 200-epoch validation accuracy (%) reached after N evaluations")
    rows = [line.split() for line in out[i + 2 :]]
    assert [r[0] for r in rows] == ["random", "rea"]
    for r in rows:
        at4, at12 = float(r[1]), float(r[2])
        assert 0 < at4 <= at12 <= 100
    assert main(argv + ["--curve", "4,13"]) == 2
    assert "error: --curve: expected" in capsys.readouterr().err
