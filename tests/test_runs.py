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


def test_number_checks_name_the_parameter_and_the_range():
    from nasfast.runs import check_below, check_int, check_number

    check_number("lr", 0.1, low=0, low_open=True)
    for bad in (float("nan"), float("inf"), 0.0, -1.0, True, "1"):
        with pytest.raises(ValueError, match=r"^lr: expected a finite number > 0, got"):
            check_number("lr", bad, low=0, low_open=True)
    with pytest.raises(ValueError, match=r"^p: expected a finite number >= 0 and < 1, got 1"):
        check_number("p", 1, low=0, high=1, high_open=True)
    check_int("n", 0, 0)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match=r"^n: expected an integer >= 0"):
            check_int("n", bad, 0)
    check_below("a", 1, "b", 1, strict=False)
    with pytest.raises(ValueError, match=r"^a: expected a value below b \(1\), got 1"):
        check_below("a", 1, "b", 1, strict=True)


def test_prepare_out_refuses_a_run_folder_and_cleans_stale_tmp(tmp_path):
    from nasfast.runs import prepare_out

    out = tmp_path / "run"
    prepare_out(out, ["ck.pt", "m.jsonl"], resume=False, overwrite=False)
    (out / "ck.pt").write_text("x")
    (out / ".ck.pt.abcd1234.tmp").write_text("half")
    with pytest.raises(ValueError, match=r"^out: .* already holds a run \(ck.pt\)"):
        prepare_out(out, ["ck.pt", "m.jsonl"], resume=False, overwrite=False)
    assert not (out / ".ck.pt.abcd1234.tmp").exists()
    prepare_out(out, ["ck.pt"], resume=True, overwrite=False)
    assert (out / "ck.pt").exists()
    prepare_out(out, ["ck.pt"], resume=False, overwrite=True)
    assert not (out / "ck.pt").exists()
    prepare_out(tmp_path / "missing", ["ck.pt"], resume=True, overwrite=False)
    assert not (tmp_path / "missing").exists()


def test_tensors_finite_and_divergence_message():
    from nasfast.runs import Diverged, check_finite_values, tensors_finite

    assert tensors_finite([torch.ones(3), torch.zeros(2, dtype=torch.float64)])
    assert not tensors_finite([torch.ones(3), torch.tensor([1.0, float("inf")])])
    assert tensors_finite([torch.arange(3)])  # integer tensors are skipped
    check_finite_values(3, "hint", loss=1.0)
    with pytest.raises(Diverged, match=r"^diverged at step 3: loss is nan; lower it$"):
        check_finite_values(3, "lower it", loss=float("nan"))


def test_checkpoint_kind_is_stored_or_recognized(tmp_path):
    from nasfast.runs import checkpoint_kind, load_checkpoint, save_checkpoint

    assert checkpoint_kind({"settings": {}, "opt": {}}) == "train"
    assert checkpoint_kind({"config": {}, "a_opt": {}}) == "search"
    assert checkpoint_kind({"losses": [], "opt": {}}) == "supernet"
    save_checkpoint({"kind": "supernet", "step": 1}, tmp_path / "a.pt")
    with pytest.raises(ValueError, match=r"is a supernet checkpoint, not a train checkpoint$"):
        load_checkpoint(tmp_path / "a.pt", kind="train")
    with pytest.raises(ValueError, match=r"is incomplete \(no net\)$"):
        load_checkpoint(tmp_path / "a.pt", kind="supernet", keys=("step", "net"))
