import pytest
import torch

from nasfast._atomic import atomic_path, torch_save_atomic


def test_atomic_path_replaces_on_success_and_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "sub" / "f.txt"
    with atomic_path(target) as tmp, open(tmp, "w") as f:
        f.write("one")
    assert target.read_text() == "one"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "one"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]  # no temporaries left


def test_torch_save_atomic_round_trips_with_weights_only(tmp_path):
    torch_save_atomic({"w": torch.arange(3)}, tmp_path / "c.pt")
    assert torch.equal(torch.load(tmp_path / "c.pt", weights_only=True)["w"], torch.arange(3))
