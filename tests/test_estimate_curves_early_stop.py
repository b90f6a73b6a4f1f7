"""The early-stopping rule on synthetic curves, and `nasfast train --early-stop` wiring."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from darts_helpers import write_tiny_npz

import nasfast.estimate.curves.stopping as stopping
from nasfast.cli.main import main
from nasfast.estimate.curves.stopping import EarlyStop, StopRule

FAST = ("last_value", "pow3", "ilog2")


def curve(final: float, epochs: int) -> np.ndarray:
    x = np.arange(1, epochs + 1)
    return final - (final - 10.0) * x**-1.0


def test_rule_stops_a_curve_heading_below_the_incumbent_and_keeps_a_better_one():
    rule = StopRule(min_points=3, limits=(0, 100), families=FAST)
    x = np.arange(1, 6)
    stop, mean = rule.should_stop(x, curve(60.0, 5), 50, incumbent=80.0)
    assert stop and mean == pytest.approx(60.0, abs=3)
    assert not rule.should_stop(x, curve(85.0, 5), 50, incumbent=80.0)[0]
    assert not rule.should_stop(x, curve(60.0, 5), 50, incumbent=None)[0]  # nothing to beat
    assert not rule.should_stop(x[:2], curve(60.0, 2), 50, incumbent=80.0)[0]  # too few points


def test_early_stop_with_a_target_and_on_a_plateau():
    with_target = EarlyStop(40, target=90.0, rule=StopRule(limits=(0, 100), families=FAST))
    stops = [with_target.add(e, v) for e, v in enumerate(curve(70.0, 6), start=1)]
    assert stops[:2] == [False, False] and any(stops)
    flat = EarlyStop(40, rule=StopRule(limits=(0, 100), families=FAST), min_delta=0.5)
    assert any(flat.add(e, 50.0) for e in range(1, 8))
    with pytest.raises(ValueError, match="epochs: expected an int >= 1"):
        EarlyStop(0)


GENOTYPE = {
    "normal": [["sep_conv_3x3", 0], ["skip_connect", 1]] * 4,
    "reduce": [["max_pool_3x3", 0], ["skip_connect", 1]] * 4,
}


def test_train_early_stop_ends_the_run_and_resume_finishes_it(tmp_path, monkeypatch, capsys):
    g = tmp_path / "genotype.json"
    g.write_text(json.dumps(GENOTYPE))
    npz = write_tiny_npz(str(tmp_path / "tiny.npz"))
    seen = []

    def stop_at_third(self, x, y, final, incumbent):
        seen.append((list(x), final))
        return len(x) >= 3, 42.0

    monkeypatch.setattr(stopping.StopRule, "should_stop", stop_at_third)
    out = tmp_path / "run"
    base = ["train", "--genotype", str(g), "--dataset", npz, "--channels", "2", "--layers", "1",
            "--batch-size", "8", "--epochs", "5", "--no-progress", "--out", str(out)]  # fmt: skip
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main([*base, "--early-stop"]) == 0
        assert "early stop after epoch 3: predicted final test accuracy 42.00%" in (
            capsys.readouterr().out
        )
        result = json.load(open(out / "result.json"))
        assert result["stopped_early"] and not result["complete"]
        assert result["predicted_final_acc"] == 42.0
        assert len(open(out / "train_metrics.jsonl").readlines()) == 3
        assert seen[-1] == ([1, 2, 3], 5)
        assert main([*base, "--resume"]) == 0  # without --early-stop: trains to the end
        assert len(open(out / "train_metrics.jsonl").readlines()) == 5
        assert json.load(open(out / "result.json"))["complete"]
    finally:
        torch.set_num_threads(n)
    assert os.path.exists(out / "train_checkpoint.pt")


def test_train_early_stop_flags_are_checked(tmp_path, capsys):
    g = tmp_path / "genotype.json"
    g.write_text(json.dumps(GENOTYPE))
    npz = write_tiny_npz(str(tmp_path / "tiny.npz"))
    argv = ["train", "--genotype", str(g), "--dataset", npz, "--early-stop-target", "120"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("--early-stop-target: expected an accuracy in [0, 100] %, got 120.0")
    assert len(err.splitlines()) == 1
