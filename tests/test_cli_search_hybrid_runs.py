"""``nasfast search hybrid`` never reuses a supernet silently: --resume with the same settings,
--overwrite, or a one-line refusal; flags in the shared vocabulary (old spellings hidden)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from darts_helpers import cli_error, one_thread  # noqa: F401

from nasfast.cli.main import main
from nasfast.oneshot import supernet_training


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "imgs.npz"
    np.savez(path, images=rng.integers(0, 256, (40, 8, 8)).astype(np.uint8),
             labels=rng.integers(0, 3, 40))  # fmt: skip
    return str(path)


def _argv(npz, out, *extra):
    return ["search", "hybrid", "--dataset", npz, "--channels", "2", "--steps", "2",
            "--batch-size", "8", "--budget", "6", "--generation", "3", "--val-images", "8",
            "--no-plots", "--quiet", "--no-progress", "--out", str(out), *extra]  # fmt: skip


def test_a_second_run_is_refused_then_resumed_or_overwritten(npz, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert main(_argv(npz, out)) == 0
    first = json.loads((out / "results.json").read_text())
    err = cli_error(capsys, _argv(npz, out, "--channels", "4"))
    assert err.startswith("nasfast search: error: --out: ") and "--resume" in err
    err = cli_error(capsys, _argv(npz, out, "--channels", "4", "--resume"))
    assert "--resume: the checkpoint was made with network=" in err
    err = cli_error(capsys, _argv(npz, out, "--seed", "1", "--resume"))
    assert "--resume: the checkpoint was made with seed=0, this run has 1" in err
    trained = []
    real = supernet_training.save_checkpoint
    monkeypatch.setattr(
        supernet_training, "save_checkpoint", lambda s, p: (trained.append(s["step"]), real(s, p))
    )
    assert main(_argv(npz, out, "--resume", "--budget", "9")) == 0
    assert trained == []  # the finished supernet is reused, not trained again
    again = json.loads((out / "results.json").read_text())
    assert again["n_evals"] == 9 and again["supernet"] == first["supernet"]
    assert main(_argv(npz, out, "--overwrite", "--channels", "4")) == 0
    assert trained == [2]
    assert json.loads((out / "results.json").read_text())["supernet"]["C"] == 4


def test_old_spellings_are_hidden_aliases(npz, tmp_path, capsys):
    old = ["search", "hybrid", "--data", npz, "--C", "2", "--N", "1", "--population", "4",
           "--steps", "2", "--batch-size", "8", "--budget", "6", "--generation", "3",
           "--val-images", "8", "--no-plots", "--quiet", "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(old) == 0
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    assert res["supernet"]["C"] == 2
    with pytest.raises(SystemExit):
        main(["search", "hybrid", "--help"])
    text = capsys.readouterr().out
    for new in ("--dataset", "--pop-size", "--channels", "--cells", "--progress", "--resume"):
        assert new in text
    for gone in ("--data ", "--population", "--C ", "--N "):
        assert gone not in text
    err = cli_error(capsys, _argv(npz, tmp_path / "p", "--pop-size", "1"))
    assert "--pop-size: expected an integer >= 2, got 1" in err
    assert "--lr: expected a finite number > 0" in cli_error(
        capsys, _argv(npz, tmp_path / "p", "--lr", "nan")
    )


def test_a_diverging_supernet_stops(npz, tmp_path):
    from nasfast.nn import NB201Supernet
    from nasfast.runs import Diverged

    torch.manual_seed(0)
    net = NB201Supernet(C=2, N=1, num_classes=3, in_channels=1)
    x = torch.randn(16, 1, 8, 8)
    x[3] = float("nan")
    with pytest.raises(Diverged, match=r"^diverged at step \d+: train_loss is nan"):
        supernet_training.train_supernet(
            net, x, torch.randint(0, 3, (16,)), steps=20, batch_size=8, paths=2
        )
