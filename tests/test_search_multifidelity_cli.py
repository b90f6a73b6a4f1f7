"""`nasfast search sh|hyperband|asha|bohb` on NAS-Bench-201: budget in epochs, resume, errors."""

from __future__ import annotations

import json

import pytest

from nasfast.cli.main import main


@pytest.mark.parametrize("name", ["sh", "hyperband", "asha", "bohb"])
def test_search_reports_epochs_spent_and_the_best_cell(tmp_path, capsys, name):
    out = tmp_path / name
    assert main(["search", name, "--budget", "2500", "--seeds", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{name} on nb201/cifar10, 2500 epochs, 2 seed(s)" in printed
    res = json.loads((out / "results.json").read_text())
    assert res["budget_epochs"] == 2500 and res["fidelity_epochs"] == [12.0, 200.0]
    for r in res["runs"]:
        assert 200 <= r["epochs_spent"] <= 2500
        assert r["final_acc"] == max(a for _, a in r["incumbent_trace"])


def test_checkpointed_search_resumes_to_the_same_result(tmp_path, capsys):
    argv = ["search", "asha", "--budget", "3000", "--seed", "3", "--out", str(tmp_path),
            "--checkpoint", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    first = json.loads((tmp_path / "results.json").read_text())
    ck = json.loads((tmp_path / "checkpoint-seed3.json").read_text())
    assert ck["scheduler"] == "asha" and len(ck["trials"]) > 10
    # an interrupted run leaves a shorter checkpoint: the rerun replays it and goes on
    ck["trials"] = ck["trials"][:10]
    (tmp_path / "checkpoint-seed3.json").write_text(json.dumps(ck))
    assert main(argv) == 0
    assert json.loads((tmp_path / "results.json").read_text()) == first
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--budget", "0"], "--budget: expected a number > 0, got 0"),
        (["--eta", "x"], "--eta: expected a number, got 'x'"),
        (["--fidelity", "12"], "--fidelity: expected 12,200 or 200"),
        (["--sampler", "pso"], "strategy: expected one of"),
        (["--benchmark", "nb101"], "--benchmark: expected nb201"),
        (["--budget", "100"], "without any cell reaching 200 epochs"),
    ],
)
def test_bad_flags_are_one_line_errors(tmp_path, capsys, extra, fragment):
    assert main(["search", "sh", "--out", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1
