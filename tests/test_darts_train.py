"""`nasfast train`: checkpoint, resume equality (also mid-epoch and after a kill), no duplicate
metrics lines, atomic checkpoint writes, one-line resume errors."""

from __future__ import annotations

import json
import os

import pytest
import torch
from darts_helpers import cli_error, one_thread, tiny_data, write_tiny_npz  # noqa: F401

import nasfast.darts.train as train_mod
from nasfast.cli.main import main
from nasfast.darts.genotype import Genotype
from nasfast.darts.model import GenotypeNetwork
from nasfast.darts.train import CHECKPOINT, METRICS_FILE, TrainConfig, train_network

GENOTYPE = {
    "normal": [["sep_conv_3x3", 0], ["skip_connect", 1], ["dil_conv_3x3", 0],
               ["max_pool_3x3", 2], ["avg_pool_3x3", 1], ["sep_conv_3x3", 3],
               ["skip_connect", 4], ["skip_connect", 0]],
    "reduce": [["max_pool_3x3", 0], ["skip_connect", 1], ["sep_conv_3x3", 2],
               ["avg_pool_3x3", 0], ["skip_connect", 2], ["dil_conv_3x3", 1],
               ["sep_conv_3x3", 0], ["skip_connect", 4]],
}  # fmt: skip

# 40 training images / batch 8 = 5 steps per epoch, 2 epochs = 10 steps; every random source on
TINY = ["--channels", "4", "--layers", "3", "--batch-size", "8", "--epochs", "2", "--cutout",
        "--cutout-length", "3", "--auxiliary", "--drop-path", "0.3", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    g = d / "genotype.json"
    g.write_text(json.dumps(GENOTYPE))
    return str(g), write_tiny_npz(str(d / "tiny.npz"))


def _train(files, out, *extra):
    """One thread (also inside module fixtures, which run outside the `one_thread` fixture):
    CPU results are bitwise equal only with the same thread count."""
    genotype, npz = files
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return main(["train", "--genotype", genotype, "--dataset", npz, "--out", str(out),
                     *TINY, *extra])  # fmt: skip
    finally:
        torch.set_num_threads(n)


def _outputs(out):
    rows = [json.loads(ln) for ln in open(os.path.join(out, METRICS_FILE))]
    for r in rows:
        r.pop("time_s")
    result = json.load(open(os.path.join(out, "result.json")))
    result.pop("train_seconds")
    state = torch.load(os.path.join(out, "model.pt"), weights_only=True)["state_dict"]
    return rows, result, state


def _assert_same(a, b):
    rows_a, result_a, state_a = a
    rows_b, result_b, state_b = b
    assert rows_a == rows_b
    assert result_a == result_b
    assert list(state_a) == list(state_b)
    for k in state_a:
        assert torch.equal(state_a[k], state_b[k]), k


@pytest.fixture(scope="module")
def uninterrupted(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    assert _train(files, out) == 0
    return _outputs(str(out))


def test_stop_mid_epoch_and_resume_equals_an_uninterrupted_run(
    files, uninterrupted, tmp_path, capsys
):
    full_rows, full_result, _ = uninterrupted
    assert len(full_rows) == 2 and full_result["complete"] and full_result["steps"] == 10
    out = tmp_path / "part"
    assert _train(files, out, "--max-steps", "3") == 0  # mid epoch 0
    assert "3 of 10 steps, stopped at step 3" in capsys.readouterr().out
    rows = [json.loads(ln) for ln in open(out / METRICS_FILE)]
    assert [(r["step"], r.get("partial")) for r in rows] == [(3, True)]
    ck = torch.load(out / CHECKPOINT, weights_only=True)
    assert (ck["step"], ck["epoch"], ck["batch"]) == (3, 0, 3)
    assert _train(files, out, "--resume", "--max-steps", "7") == 0  # across the epoch end
    rows = [json.loads(ln) for ln in open(out / METRICS_FILE)]
    assert [(r["step"], r.get("partial")) for r in rows] == [(5, None), (7, True)]
    assert _train(files, out, "--resume") == 0
    assert "10 of 10 steps," in capsys.readouterr().out
    _assert_same(_outputs(str(out)), uninterrupted)


def test_resume_after_a_kill_drops_lines_written_after_the_checkpoint(
    files, uninterrupted, tmp_path, monkeypatch
):
    out = tmp_path / "killed"
    real = train_mod.save_checkpoint
    saved_steps = []

    def killed_at_step_10(obj, path):
        if obj["step"] == 10:  # the metrics line of epoch 1 is written, its checkpoint is not
            raise KeyboardInterrupt
        saved_steps.append(obj["step"])
        real(obj, path)

    monkeypatch.setattr(train_mod, "save_checkpoint", killed_at_step_10)
    with pytest.raises(KeyboardInterrupt):
        _train(files, out, "--checkpoint-every", "3")
    monkeypatch.undo()
    assert saved_steps == [3, 5, 6, 9]  # every 3 steps and at the epoch end
    assert [json.loads(ln)["step"] for ln in open(out / METRICS_FILE)] == [5, 10]
    with open(out / METRICS_FILE, "a") as f:
        f.write('{"epoch": 2, "st')  # a line torn by the kill
    assert _train(files, out, "--resume", "--checkpoint-every", "3") == 0
    _assert_same(_outputs(str(out)), uninterrupted)


def test_failed_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
    data = tiny_data(n=32)
    g = Genotype.from_dict(GENOTYPE)
    cfg = TrainConfig(epochs=2, batch_size=8, seed=1, drop_path=0.2)

    def net():
        torch.manual_seed(0)
        return GenotypeNetwork(g, 4, 3, 2, in_channels=1, image_size=(8, 8))

    ref = net()
    ref_result = train_network(ref, data, cfg, progress=False)
    out = str(tmp_path / "api")
    real_save = torch.save
    calls = []

    def disk_full(obj, f, *args, **kwargs):
        calls.append(f)
        if len(calls) == 2:  # the epoch-1 checkpoint: half a file, then the error
            with open(f, "wb") as fh:
                fh.write(b"half")
            raise OSError("disk full")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError, match="disk full"):
        train_network(net(), data, cfg, out=out, progress=False)
    monkeypatch.undo()
    assert sorted(os.listdir(out)) == sorted([METRICS_FILE, CHECKPOINT])  # no temporary file left
    assert torch.load(os.path.join(out, CHECKPOINT), weights_only=True)["step"] == 4
    with pytest.raises(ValueError, match="^resume: needs out"):
        train_network(net(), data, cfg, progress=False, resume=True)
    other = GenotypeNetwork(g, 2, 3, 2, in_channels=1, image_size=(8, 8))
    with pytest.raises(ValueError, match="^resume: the checkpoint.s network does not match"):
        train_network(other, data, cfg, out=out, progress=False, resume=True)
    resumed = net()
    result = train_network(resumed, data, cfg, out=out, progress=False, resume=True)
    assert {k: v for k, v in result.items() if k not in ("train_seconds",)} == {
        k: v for k, v in ref_result.items() if k not in ("train_seconds",)
    }
    for (k, a), b in zip(ref.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), k


@pytest.fixture(scope="module")
def stopped(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("stopped")
    assert _train(files, out, "--max-steps", "2") == 0
    return out


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--lr", "0.1"], "--resume: the checkpoint was made with lr=0.025, this run has 0.1"),
        (["--channels", "6"], "made with channels=4, this run has 6"),
        (["--seed", "5"], "made with seed=0, this run has 5"),
        (["--train-images", "32"], "made with train_images=None, this run has 32"),
        (["--max-steps", "2"], "--max-steps: the checkpoint is already at step 2"),
        (["--checkpoint-every", "-1"], "--checkpoint-every"),
    ],
)
def test_resume_with_other_settings_is_a_one_line_error(files, stopped, capsys, extra, fragment):
    assert fragment in cli_error(capsys, _argv(files, stopped, "--resume", *extra))


def _argv(files, out, *extra):
    genotype, npz = files
    return ["train", "--genotype", genotype, "--dataset", npz, "--out", str(out), *TINY, *extra]


def test_resume_errors(files, uninterrupted, tmp_path, capsys):
    genotype, npz = files
    err = cli_error(capsys, ["train", "--genotype", genotype, "--dataset", npz, *TINY, "--resume"])
    assert "--resume: needs --out" in err
    assert "--resume: no checkpoint at" in cli_error(
        capsys, _argv(files, tmp_path / "none", "--resume")
    )
    assert not (tmp_path / "none").exists()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / CHECKPOINT).write_bytes(b"\x00garbage")
    assert "--resume: cannot read" in cli_error(capsys, _argv(files, bad, "--resume"))
    done = tmp_path / "done"
    assert _train(files, done, "--epochs", "1") == 0
    err = cli_error(capsys, _argv(files, done, "--epochs", "1", "--resume"))
    assert "is finished (5 of 5 steps)" in err
    err = cli_error(capsys, _argv(files, done, "--resume"))  # more epochs: another schedule
    assert "made with epochs=1, this run has 2" in err
