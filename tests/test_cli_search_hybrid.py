"""``nasfast search hybrid`` end to end."""

import gc
import gzip
import json
import struct

import numpy as np

from nasfast.cli.main import main as cli_main


def _write_idx(path, arr):
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape))
        f.write(arr.astype(np.uint8).tobytes())


def test_cli_search_hybrid_writes_results(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    d = tmp_path / "idx"
    d.mkdir()
    _write_idx(d / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (60, 8, 8)))
    _write_idx(d / "train-labels-idx1-ubyte.gz", rng.integers(0, 3, (60,)))
    out = tmp_path / "run"
    argv = [
        "search",
        "hybrid",
        "--data",
        str(d),
        "--C",
        "2",
        "--steps",
        "2",
        "--batch-size",
        "8",
        "--budget",
        "12",
        "--generation",
        "4",
        "--val-images",
        "12",
        "--objectives",
        "accuracy,params",
        "--algo",
        "nsga2",
        "--darts-steps",
        "1",
        "--out",
        str(out),
    ]
    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    assert cli_main(argv) == 0
    assert frozen == [True]  # the GC is frozen once, before the supernet's training loop
    res = json.loads((out / "results.json").read_text())
    assert res["n_evals"] == 12 and res["search"] == "hybrid"
    assert res["timing"]["batched_calls"] < 12
    assert (out / "front.json").exists() and (out / "front.png").exists()
    assert (out / "supernet.pt").exists() and (out / "convergence.png").exists()
    assert "hybrid-nsga2" in capsys.readouterr().out
    assert cli_main([*argv[:-2], "--out", str(out), "--algo", "ga"]) == 2
