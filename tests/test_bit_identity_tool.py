"""benchmarks/bit_identity.py: the hashes see every bit, and --check fails on any difference."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bit_identity.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("bit_identity", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digest_sees_one_bit_shape_and_dtype(tool):
    t = torch.randn(5, 3, dtype=torch.float64)
    flipped = t.clone()
    flipped.view(torch.int64)[2, 1] ^= 1  # the lowest mantissa bit of one element
    assert tool.digest(t) == tool.digest(t.clone())
    assert tool.digest(t) != tool.digest(flipped)
    assert tool.digest(t) != tool.digest(t.reshape(3, 5))
    assert tool.digest(t) != tool.digest(t.float())
    assert tool.digest([t, (t,)]) != tool.digest([t])


def test_write_then_check(tool, tmp_path, monkeypatch, capsys):
    some = dict(list(tool.all_cases().items())[:2])
    some["darts_edge/nhwc/s2_bf16"] = tool.all_cases()["darts_edge/nhwc/s2_bf16"]
    monkeypatch.setattr(tool, "all_cases", lambda: some)
    path = tmp_path / "hashes.json"
    assert tool.main(["--write", str(path)]) == 0
    assert tool.main(["--check", str(path)]) == 0
    hashes = json.loads(path.read_text())
    key = next(iter(hashes))
    hashes[key] = "0" * 64
    path.write_text(json.dumps(hashes))
    assert tool.main(["--check", str(path)]) == 1
    assert f"DIFFERS {key}" in capsys.readouterr().out


def test_threads_must_be_positive(tool):
    with pytest.raises(SystemExit) as e:
        tool.main(["--check", "x.json", "--threads", "0"])
    assert e.value.code == 2
