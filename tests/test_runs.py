"""The resumable-run helper: settings check, checkpoints, RNG states, metrics truncation."""

from __future__ import annotations

import json

import pytest
import torch

from nasfast import runs


def test_check_settings_names_the_first_difference():
    runs.check_settings({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2]})
    with pytest.raises(ValueError, match=r"^resume: the checkpoint was made with b=\[1, 2\], "):
        runs.check_settings({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3]})
    with pytest.raises(ValueError, match="made with c=None, this run has 4"):
        runs.check_settings({"a": 1}, {"a": 1, "c": 4})
    runs.check_settings({"a": 1, "backend": "x"}, {"a": 1, "backend": "y"}, ignore=("backend",))
    assert runs.plain({"t": (1, 2)}) == {"t": [1, 2]}


def test_checkpoint_round_trip_and_errors(tmp_path):
    path = tmp_path / "ck.pt"
    runs.save_checkpoint({"step": 3, "w": torch.arange(4)}, path)
    state = runs.load_checkpoint(path)
    assert state["step"] == 3 and torch.equal(state["w"], torch.arange(4))
    with pytest.raises(ValueError, match="^resume: no checkpoint at"):
        runs.load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="^checkpoint: no checkpoint at"):
        runs.load_checkpoint(tmp_path / "missing.pt", name="checkpoint")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="^resume: .* is not a nasfast checkpoint"):
        runs.load_checkpoint(tmp_path / "list.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="^resume: cannot read"):
        runs.load_checkpoint(tmp_path / "junk.pt")


def test_rng_state_restores_torch_and_named_generators():
    gen = torch.Generator().manual_seed(3)
    torch.manual_seed(11)
    state = runs.rng_state(torch.device("cpu"), data=gen)
    assert set(state) == {"torch_rng", "cuda_rng", "data_rng"} and state["cuda_rng"].numel() == 0
    first = (torch.rand(3), torch.rand(3, generator=gen))
    runs.restore_rng(state, torch.device("cpu"), data=gen)
    again = (torch.rand(3), torch.rand(3, generator=gen))
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))


def test_truncate_metrics_keeps_what_is_asked_and_drops_a_torn_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    rows = [{"step": s, "loss": 1.0 / s} for s in (1, 2, 3, 4)]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    path.write_text(text + '{"step": 5, "lo')  # killed while writing
    runs.truncate_metrics(path, lambda r: r["step"] <= 2)
    assert path.read_text() == "".join(json.dumps(r) + "\n" for r in rows[:2])
    runs.truncate_metrics(tmp_path / "absent.jsonl", lambda r: True)
    assert not (tmp_path / "absent.jsonl").exists()
