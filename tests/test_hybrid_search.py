import gc
import gzip
import json
import struct

import numpy as np
import pytest
import torch

from nasfast.cli.main import main as cli_main
from nasfast.nn import NB201Supernet
from nasfast.search import hybrid


def _data(n=48, size=8, channels=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, channels, size, size, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    return x, y


def _net(seed=0):
    torch.manual_seed(seed)
    return NB201Supernet(C=2, N=1, num_classes=3, in_channels=1)


@pytest.mark.slow
def test_train_supernet_resume_equals_uninterrupted(tmp_path):
    x, y = _data()
    a = _net()
    la = hybrid.train_supernet(a, x, y, steps=4, batch_size=8, paths=3, seed=1)
    b = _net()
    ck = str(tmp_path / "ck.pt")
    hybrid.train_supernet(
        b,
        x,
        y,
        steps=4,
        batch_size=8,
        paths=3,
        seed=1,
        checkpoint=ck,
        checkpoint_every=1,
        stop_after=2,
    )
    c = _net(seed=5)  # a fresh process: different init, state comes from the checkpoint
    lc = hybrid.train_supernet(c, x, y, steps=4, batch_size=8, paths=3, seed=1, checkpoint=ck)
    assert la == lc and len(la) == 4
    for k, v in a.state_dict().items():
        torch.testing.assert_close(c.state_dict()[k], v, rtol=0, atol=0)


def test_train_supernet_bad_arguments():
    x, y = _data()
    with pytest.raises(ValueError, match="^paths:"):
        hybrid.train_supernet(_net(), x, y, steps=2, paths=0)
    with pytest.raises(ValueError, match="^y:"):
        hybrid.train_supernet(_net(), x, y[:3], steps=2)


def test_forward_mixed_with_one_hot_alphas_equals_forward():
    net = _net().double().eval()
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    arch = [3, 1, 2, 4, 0, 3]
    alpha = torch.full((6, 5), -60.0, dtype=torch.float64)
    alpha[torch.arange(6), torch.tensor(arch)] = 60.0
    with torch.no_grad():
        torch.testing.assert_close(net.forward_mixed(x, alpha), net(x, arch))
    with pytest.raises(ValueError, match="^alpha:"):
        net.forward_mixed(x, torch.zeros(6, 4))


@pytest.mark.slow
def test_objective_scores_a_generation_in_one_call_and_matches_the_loop():
    x, y = _data(n=20)
    net = _net().eval()
    obj = hybrid.SupernetObjective(net, x, y, costs=["params"], batch_size=7)
    cands = [(3, 1, 2, 4, 0, 3), (0, 0, 0, 0, 0, 0), (3, 1, 2, 4, 0, 3), (1, 2, 3, 4, 1, 2)]
    out = obj(cands)
    assert obj.calls == 1 and obj.scored == 4
    with torch.no_grad():
        for c, m in zip(cands, out, strict=True):
            correct = sum(
                int((net(x[i : i + 7], c, bn="batch").argmax(-1) == y[i : i + 7]).sum())
                for i in range(0, 20, 7)
            )
            assert m["accuracy"] == pytest.approx(100.0 * correct / 20)
            assert m["params"] > 0 and 0 <= m["index"] < 15625
    assert out[0]["params"] > out[1]["params"]


@pytest.mark.parametrize("algo", ["rea", "nsga2"])
def test_search_batches_generations_and_uses_seeds(algo):
    x, y = _data(n=16)
    obj = hybrid.SupernetObjective(_net().eval(), x, y, costs=["params"], batch_size=16)
    seeds = [(3, 3, 3, 3, 3, 3), (1, 1, 1, 1, 1, 1)]
    objectives = ["accuracy"] if algo == "rea" else ["accuracy", "params"]
    res = hybrid.search(
        obj,
        algo=algo,
        objectives=objectives,
        budget=20,
        generation=4,
        population=8,
        seeds=seeds,
        seed=0,
    )
    assert res.n_evals == 20
    first = {e.candidate for e in res.history[:8]}
    assert set(seeds) <= first
    assert obj.calls < 10  # generations, not one call per candidate
    assert len(res.front()) >= 1


def test_seeds_from_alphas_starts_with_argmax():
    alpha = torch.zeros(6, 5)
    alpha[:, 2] = 3.0
    s = hybrid.seeds_from_alphas(alpha, 5, seed=0)
    assert s[0] == (2,) * 6 and len(set(s)) == len(s) == 5


def _write_idx(path, arr):
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape))
        f.write(arr.astype(np.uint8).tobytes())


@pytest.mark.slow
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
