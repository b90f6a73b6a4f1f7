"""`nasfast search darts` and `nasfast train` end to end on tiny files; one-line errors."""

from __future__ import annotations

import gc
import json
import os

import pytest
import torch
from darts_helpers import cli_error, one_thread, write_tiny_npz  # noqa: F401

from nasfast.cli.main import main
from nasfast.darts.genotype import Genotype
from nasfast.darts.model import GenotypeNetwork

TINY = ["--channels", "2", "--layers", "1", "--batch-size", "8", "--epochs", "1",
        "--backend", "reference", "--no-progress", "--order", "first"]  # fmt: skip


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    return write_tiny_npz(str(tmp_path_factory.mktemp("data") / "tiny.npz"))


def test_search_then_train_then_export(tmp_path, npz, capsys):
    out = str(tmp_path / "s")
    assert main(["search", "darts", "--dataset", npz, "--out", out, *TINY]) == 0
    text = capsys.readouterr().out
    assert "normal: [" in text and "reduce: [" in text and "complete" in text
    g = Genotype.load(os.path.join(out, "genotype.json"))
    tout = str(tmp_path / "t")
    export = str(tmp_path / "net.pt2")
    rc = main(
        [
            "train",
            "--genotype",
            os.path.join(out, "genotype.json"),
            "--dataset",
            npz,
            "--channels",
            "2",
            "--layers",
            "3",
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--cutout",
            "--cutout-length",
            "3",
            "--auxiliary",
            "--drop-path",
            "0.2",
            "--no-progress",
            "--out",
            tout,
            "--export",
            export,
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "test accuracy:" in text
    result = json.load(open(os.path.join(tout, "result.json")))
    assert 0.0 <= result["test_acc"] <= 1.0 and result["steps"] == 40 // 8
    rows = [json.loads(x) for x in open(os.path.join(tout, "train_metrics.jsonl"))]
    assert len(rows) == 1
    # the exported program reproduces the trained plain nn.Module in eval mode
    ck = torch.load(os.path.join(tout, "model.pt"), weights_only=True)
    net = GenotypeNetwork(g, 2, 3, 3, in_channels=1, image_size=(8, 8), auxiliary=True)
    net.load_state_dict(ck["state_dict"])
    net.eval()
    x = torch.randn(2, 1, 8, 8)
    prog = torch.export.load(export).module()
    torch.testing.assert_close(prog(x), net(x))


def test_search_and_train_freeze_the_gc_before_their_loops(tmp_path, npz, monkeypatch, capsys):
    # gc.freeze keeps full collections from walking torch's import-time objects every few steps
    calls = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    out = str(tmp_path / "s")
    assert main(["search", "darts", "--dataset", npz, "--out", out, *TINY]) == 0
    assert calls == ["freeze"]
    genotype = os.path.join(out, "genotype.json")
    train = ["train", "--genotype", genotype, "--dataset", npz, "--channels", "2",
             "--layers", "3", "--epochs", "1", "--batch-size", "8", "--no-progress"]  # fmt: skip
    assert main(train) == 0
    assert calls == ["freeze", "freeze"]


def test_search_stop_and_resume_via_cli(tmp_path, npz, capsys):
    out = str(tmp_path / "s")
    assert main(["search", "darts", "--dataset", npz, "--out", out, "--max-steps", "1", *TINY]) == 0
    assert "stopped at step 1" in capsys.readouterr().out
    assert main(["search", "darts", "--dataset", npz, "--out", out, "--resume", *TINY]) == 0
    assert "complete" in capsys.readouterr().out
    assert len(open(os.path.join(out, "metrics.jsonl")).readlines()) == 2


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--epochs", "0"], "--epochs"),
        (["--batch-size", "500"], "--batch-size"),
        (["--partial-channels", "3"], "--partial-channels"),
        (["--order", "third"], "--order"),
        (["--sampler", "uniform"], "--sampler"),
        (["--epochs", "two"], "--epochs"),
        (["--progressive", "--stage-ops", "9"], "--stage-ops"),
        (["--progressive", "--epochs", "2"], "--epochs"),
        (["--complexity-weight", "-1"], "--complexity-weight"),
        (["--max-steps", "-3"], "--max-steps"),
        (["--resume"], "--resume: no checkpoint"),
        (["--device", "tpu"], "--device: expected cpu or cuda[:N]"),
        (["--threads", "0"], "--threads: expected a positive count"),
        (["--cost-table", "/nonexistent.json", "--complexity-weight", "1"], "--cost-table"),
    ],
)
def test_bad_search_flags_are_one_line_errors(tmp_path, npz, capsys, extra, fragment):
    err = cli_error(
        capsys, ["search", "darts", "--dataset", npz, "--out", str(tmp_path / "o"), *TINY, *extra]
    )
    assert fragment in err


def test_unreadable_data_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"\x00" * 64)
    err = cli_error(capsys, ["search", "darts", "--dataset", str(bad), *TINY])
    assert "broken.npz" in err
    err = cli_error(capsys, ["search", "darts", "--dataset", "no-such-set", *TINY])
    assert "--dataset" in err


def test_bad_train_flags_are_one_line_errors(tmp_path, npz, capsys):
    missing = str(tmp_path / "missing.json")
    err = cli_error(capsys, ["train", "--genotype", missing, "--dataset", npz])
    assert "--genotype" in err
    gpath = tmp_path / "g.json"
    gpath.write_text('{"normal": [["sep_conv_3x3", 0]]}')
    assert "reduce" in cli_error(capsys, ["train", "--genotype", str(gpath), "--dataset", npz])
    assert "--genotype" in cli_error(capsys, ["train", "--dataset", npz])
    good = tmp_path / "ok.json"
    good.write_text(
        json.dumps(
            {
                "normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1]] * 1,
                "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1]],
            }
        )
    )
    assert "--drop-path" in cli_error(
        capsys, ["train", "--genotype", str(good), "--dataset", npz, "--drop-path", "1.5"]
    )
    base = ["train", "--genotype", str(good), "--dataset", npz]
    assert "--device: expected cpu" in cli_error(capsys, [*base, "--device", "tpu"])
    assert "--threads: expected a positive" in cli_error(capsys, [*base, "--threads", "0"])
