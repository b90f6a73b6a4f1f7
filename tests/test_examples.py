"""The examples under examples/ run (shrunk with --quick) and report a valid architecture."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(autouse=True)
def keep_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tabular_example_searches_and_compares_with_a_baseline(capsys):
    mod = _load("tabular_breast_cancer")
    report = mod.main(["--quick"])
    assert '"found_test_acc_mean"' in capsys.readouterr().out
    space = mod.ModelSpace(mod.TabularNet, 30, 2)
    assert space.validate(report["found_arch"])
    assert report["evaluated"] == 6
    assert 0.5 < report["found_test_acc_mean"] <= 1.0 and 0.5 < report["baseline_test_acc_mean"]
    # the baseline is sized like the found network
    assert abs(report["baseline_params"] - report["found_params"]) < 0.2 * report["found_params"]


def test_forecast_example_runs_spos_and_compares_with_baselines(capsys):
    mod = _load("forecast_sunspots")
    report = mod.main(["--quick"])
    assert '"found_test_mae_mean"' in capsys.readouterr().out
    space = mod.ModelSpace(mod.Forecaster)
    assert space.validate(report["found_arch"])
    assert report["evaluated_on_supernet"] == 6
    for key in ("found_test_mae_mean", "baseline_test_mae_mean", "naive_test_mae"):
        assert math.isfinite(report[key]) and report[key] > 0
    assert abs(report["baseline_params"] - report["found_params"]) < 0.2 * report["found_params"]


def test_forecast_windows_follow_the_series():
    mod = _load("forecast_sunspots")
    (tr, va, te), scale = mod.load_data()
    assert tr[0].shape[1] == va[0].shape[1] == te[0].shape[1] == mod.LOOKBACK
    # each window's next value is the target; consecutive windows shift by one year
    torch.testing.assert_close(tr[0][1, -1], tr[1][0])
    torch.testing.assert_close(tr[0][1, :-1], tr[0][0, 1:])
    assert float(tr[0].max()) <= 1.0 and scale > 100
    assert len(tr[1]) + len(va[1]) + len(te[1]) == 309 - mod.LOOKBACK
