"""Runs that never end with a wrong number and are never lost: settings checks, divergence,
run folders, checkpoints of other commands, torn files, Ctrl-C, export (tiny CLI runs)."""

from __future__ import annotations

import json
import os
import shutil
import signal

import pytest
import torch
from darts_helpers import cli_error, one_thread, write_tiny_npz  # noqa: F401

from nasfast.cli.main import main
from nasfast.darts import search as search_mod
from nasfast.darts import train as train_mod

TINY = ["--channels", "2", "--layers", "1", "--batch-size", "8", "--epochs", "2",
        "--backend", "reference", "--no-progress", "--order", "first"]  # fmt: skip
TRAIN = ["--channels", "2", "--layers", "2", "--batch-size", "8", "--epochs", "2",
         "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def no_plots():
    """The PNGs take most of a tiny run's time; their own tests draw them."""
    from nasfast.darts import plots

    saved = plots.plot_alpha_history, plots.plot_genotype
    plots.plot_alpha_history = plots.plot_genotype = lambda *a: []
    yield
    plots.plot_alpha_history, plots.plot_genotype = saved


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    return write_tiny_npz(str(tmp_path_factory.mktemp("data") / "tiny.npz"))


@pytest.fixture(scope="module")
def searched(npz, tmp_path_factory):
    """A finished tiny search (its folder is copied by tests that change it)."""
    out = tmp_path_factory.mktemp("searched") / "run"
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # as the tests (one_thread): resumed runs compare bit for bit
    try:
        assert main(["search", "darts", "--dataset", npz, "--out", str(out), *TINY]) == 0
    finally:
        torch.set_num_threads(n)
    return out


def _search(npz, out, *extra):
    return ["search", "darts", "--dataset", npz, "--out", str(out), *TINY, *extra]


def _train(npz, searched, out, *extra):
    genotype = str(searched / "genotype.json")
    return ["train", "--genotype", genotype, "--dataset", npz, "--out", str(out), *TRAIN, *extra]


def _strict_rows(path):
    def refuse(token):
        raise AssertionError(f"bare {token} in {path}")

    with open(path) as f:
        return [json.loads(line, parse_constant=refuse) for line in f]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--grad-clip", "nan"], "--grad-clip: expected a finite number > 0"),
        (["--grad-clip", "-1"], "--grad-clip: expected a finite number > 0"),
        (["--momentum", "nan"], "--momentum: expected a finite number >= 0 and < 1"),
        (["--momentum", "1"], "--momentum"),
        (["--lr", "inf"], "--lr: expected a finite number > 0"),
        (["--lr-min", "0.5"], "--lr-min: expected a value at most lr (0.025)"),
        (["--weight-decay", "-1e-3"], "--weight-decay"),
        (["--arch-lr", "0"], "--arch-lr"),
        (["--sampler", "gumbel", "--tau-min", "5", "--tau-max", "1"], "--tau-min"),
        (["--warmup-epochs", "2"], "--warmup-epochs: expected a value below epochs"),
        (["--seed", "-1"], "--seed"),
        (["--max-skips", "-2"], "--max-skips"),
        (["--checkpoint-every", "-1"], "--checkpoint-every"),
        (["--time-backends", "-1"], "--time-backends"),
        (["--epoch", "1"], "unrecognized arguments: --epoch"),  # no abbreviations
    ],
)
def test_bad_search_numbers_are_refused(npz, tmp_path, capsys, extra, fragment):
    assert fragment in cli_error(capsys, _search(npz, tmp_path / "o", *extra))
    assert not (tmp_path / "o" / "metrics.jsonl").exists()


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--lr", "inf"], "--lr: expected a finite number > 0"),
        (["--grad-clip", "-1"], "--grad-clip"),
        (["--momentum", "nan"], "--momentum"),
        (["--auxiliary-weight", "nan"], "--auxiliary-weight"),
        (["--weight-decay", "inf"], "--weight-decay"),
        (["--channels", "0"], "--channels"),
        (["--seed", "-3"], "--seed"),
    ],
)
def test_bad_train_numbers_are_refused(npz, searched, tmp_path, capsys, extra, fragment):
    assert fragment in cli_error(capsys, _train(npz, searched, tmp_path / "t", *extra))


def test_a_diverging_search_stops_without_a_result(npz, tmp_path, capsys):
    out = tmp_path / "s"
    err = cli_error(capsys, _search(npz, out, "--arch-lr", "1e30", "--checkpoint-every", "1"))
    assert "diverged at step 1: train_loss is nan" in err
    assert "holds the last finite state (step 1)" in err
    assert not (out / "genotype.json").exists() and not (out / "alphas_normal.png").exists()
    ck = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 1 and all(torch.isfinite(v).all() for v in ck["net"].values())
    assert [r["step"] for r in _strict_rows(out / "metrics.jsonl")] == [0]


def test_a_diverging_training_stops_without_a_result(npz, searched, tmp_path, capsys):
    out = tmp_path / "t"
    err = cli_error(capsys, _train(npz, searched, out, "--lr", "1e30", "--grad-clip", "1e30"))
    assert "diverged at step" in err and "nan" in err
    assert not (out / "result.json").exists() and not (out / "model.pt").exists()
    _strict_rows(out / "train_metrics.jsonl")


def test_metrics_lines_are_strict_json():
    from nasfast.runs import json_line

    line = json_line({"a": float("nan"), "b": [1.0, float("inf")], "c": 2})
    assert json.loads(line) == {"a": None, "b": [1.0, None], "c": 2}


def test_a_second_run_into_a_run_folder_is_refused(npz, searched, tmp_path, capsys):
    out = tmp_path / "s"
    shutil.copytree(searched, out)
    before = (out / "metrics.jsonl").read_bytes()
    err = cli_error(capsys, _search(npz, out))
    assert err.startswith("nasfast search: error: --out: ") and "--resume" in err
    assert (out / "metrics.jsonl").read_bytes() == before
    assert main(_search(npz, out, "--overwrite")) == 0
    assert "--overwrite: cannot be combined" in cli_error(
        capsys, _search(npz, out, "--overwrite", "--resume")
    )
    t = tmp_path / "t"
    assert main(_train(npz, searched, t, "--epochs", "1")) == 0
    assert "--out: " in cli_error(capsys, _train(npz, searched, t, "--epochs", "1"))
    assert main(_train(npz, searched, t, "--epochs", "1", "--overwrite")) == 0


def test_checkpoint_of_another_command_or_a_bare_tensor(npz, searched, tmp_path, capsys):
    t = tmp_path / "t"
    assert main(_train(npz, searched, t, "--max-steps", "1")) == 0
    s = tmp_path / "s"
    s.mkdir()
    shutil.copy(t / "train_checkpoint.pt", s / "checkpoint.pt")
    err = cli_error(capsys, _search(npz, s, "--resume"))
    assert "is a train checkpoint, not a search checkpoint" in err
    shutil.copy(searched / "checkpoint.pt", t / "train_checkpoint.pt")
    err = cli_error(capsys, _train(npz, searched, t, "--resume"))
    assert "is a search checkpoint, not a train checkpoint" in err
    torch.save(torch.zeros(3), s / "checkpoint.pt")
    err = cli_error(capsys, _search(npz, s, "--resume"))
    assert "not a nasfast checkpoint (it holds a Tensor)" in err
    torch.save({"kind": "search", "step": 1}, s / "checkpoint.pt")
    assert "is incomplete (no config" in cli_error(capsys, _search(npz, s, "--resume"))


def test_resume_tolerates_a_torn_line_and_cleans_stale_tmp_files(npz, tmp_path, capsys):
    out = tmp_path / "s"
    assert main(_search(npz, out, "--max-steps", "2")) == 0
    with open(out / "metrics.jsonl", "a") as f:
        f.write('{"step": 2, "epoch": 1, "train_lo')  # torn by a kill
    stale = out / ".checkpoint.pt.k1ll3d.tmp"
    stale.write_bytes(b"\x00" * 100)
    other = out / "notes.tmp"
    other.write_text("the user's")
    assert main(_search(npz, out, "--resume")) == 0
    assert not stale.exists() and other.exists()
    assert [r["step"] for r in _strict_rows(out / "metrics.jsonl")] == [0, 1, 2, 3]


def test_checkpoint_every_and_metrics_names(npz, tmp_path, monkeypatch):
    saved = []
    real = search_mod.save_checkpoint
    monkeypatch.setattr(
        search_mod, "save_checkpoint", lambda st, p: (saved.append(st["step"]), real(st, p))
    )
    out = tmp_path / "s"
    assert main(_search(npz, out, "--checkpoint-every", "1")) == 0
    assert saved == [1, 2, 3, 4, 4]  # every step, the epoch ends and the end
    rows = _strict_rows(out / "metrics.jsonl")
    assert all(r["elapsed_s"] >= r["step_s"] > 0 for r in rows) and "time_s" not in rows[0]
    assert [r["elapsed_s"] for r in rows] == sorted(r["elapsed_s"] for r in rows)


def _ctrl_c_at(cls, step, monkeypatch):
    """Ctrl-C during the ``step``-th call of ``cls._one_step``."""
    real, calls = cls._one_step, []

    def step_then_signal(self, *a):
        out = real(self, *a)
        calls.append(1)
        if len(calls) == step:
            signal.raise_signal(signal.SIGINT)
        return out

    monkeypatch.setattr(cls, "_one_step", step_then_signal)


def test_ctrl_c_checkpoints_and_the_resumed_search_ends_where_one_run_ends(
    npz, searched, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "s"
    _ctrl_c_at(search_mod.DartsSearch, 3, monkeypatch)
    assert main(_search(npz, out)) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "interrupted at step 3; checkpoint" in err[0] and "--resume" in err[0]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 3
    assert not (out / "genotype.json").exists()
    monkeypatch.undo()
    assert main(_search(npz, out, "--resume")) == 0
    a = torch.load(out / "checkpoint.pt", weights_only=True)["net"]
    b = torch.load(searched / "checkpoint.pt", weights_only=True)["net"]
    assert all(torch.equal(a[k], b[k]) for k in b)


def test_ctrl_c_in_training_checkpoints(npz, searched, tmp_path, capsys, monkeypatch):
    out = tmp_path / "t"
    _ctrl_c_at(train_mod.TrainRun, 1, monkeypatch)
    assert main(_train(npz, searched, out)) == 130
    assert torch.load(out / "train_checkpoint.pt", weights_only=True)["step"] == 1


def test_export_keeps_one_image_and_a_finished_run_exports_again(
    npz, searched, tmp_path, capsys, monkeypatch
):
    out, export = tmp_path / "t", str(tmp_path / "net.pt2")

    def killed(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_mod, "export_module", killed)
    assert main(_train(npz, searched, out, "--export", export)) == 130
    monkeypatch.undo()
    assert capsys.readouterr().err.strip() == "nasfast train: interrupted"
    assert not os.path.exists(export)
    assert "is finished" in cli_error(capsys, _train(npz, searched, out, "--resume"))
    assert main(_train(npz, searched, out, "--resume", "--export", export)) == 0
    assert "exported its model.pt" in capsys.readouterr().out
    program = torch.export.load(export)
    (example,), _ = program.example_inputs
    assert example.untyped_storage().nbytes() == 8 * 8 * 4  # one 1x8x8 float image
    for n in (1, 5):
        assert program.module()(torch.randn(n, 1, 8, 8)).shape == (n, 3)


def test_the_demo_search_runs_again_into_its_folder(tmp_path):
    """``make demo``'s DARTS command (shrunk) twice in a row: the second replaces the first."""
    import re
    import shlex
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    line = re.search(r"nasfast (search darts .*?--out \S+)", makefile.replace("\\\n", " "))
    argv = shlex.split(line.group(1))
    shrink = {"--train-images": "128", "--time-backends": "0", "--out": str(tmp_path / "demo")}
    for flag, value in shrink.items():
        argv[argv.index(flag) + 1] = value
    assert main([*argv, "--max-steps", "1"]) == 0
    assert main([*argv, "--max-steps", "1"]) == 0
