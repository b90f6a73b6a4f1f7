"""The DARTS search loop: resume equality, every variant, outputs, cost-aware search."""

from __future__ import annotations

import json
import os

import pytest
import torch
from darts_helpers import BACKENDS, one_thread, tiny_config, tiny_data  # noqa: F401

from nasfast.darts.network import SearchNetwork
from nasfast.darts.search import DartsSearch

STEP_FIELDS = {"step", "epoch", "time_s", "train_loss", "train_acc", "val_loss", "val_acc", "lr"}


def _run(cfg, out, *, max_steps=None, resume=False, data=None, plots=False):
    s = DartsSearch(cfg, data or tiny_data(), str(out), progress=False, log=lambda _m: None)
    g = s.run(resume=resume, max_steps=max_steps, plots=plots)
    return s, g


def _metrics(out):
    with open(os.path.join(out, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def _without_time(rows):
    return [{k: v for k, v in r.items() if k != "time_s"} for r in rows]


@pytest.mark.parametrize(
    "kw, stops",
    [
        (dict(layers=3, epochs=1), [2]),  # DARTS second order
        (dict(layers=3, epochs=1, backend="fused"), [2]),
        # the fused edge from 16 channels: the network runs channels-last
        (dict(layers=2, epochs=1, backend="fused", channels=16), [2]),
        # GDAS sampling + P-DARTS stages (pruning, skip dropout) across a stage boundary
        (
            dict(
                progressive=True,
                sampler="gumbel",
                stage_layers=[1, 3],
                stage_ops=[4],
                stage_skip_dropout=[0.5, 0.5],
                epochs=2,
            ),
            [3, 4],
        ),
        (
            dict(
                progressive=True,
                stage_layers=[1, 2],
                stage_ops=[3],
                stage_skip_dropout=[0.6, 0.3],
                partial_channels=2,
                channels=4,
                epochs=2,
            ),
            [2],
        ),
    ],
)
def test_stop_and_resume_equals_an_uninterrupted_run(tmp_path, kw, stops):
    full, g_full = _run(tiny_config(**kw), tmp_path / "full")
    part_dir = tmp_path / "part"
    s, _ = _run(tiny_config(**kw), part_dir, max_steps=stops[0])
    assert s.step == stops[0]
    for k in stops[1:]:
        s, _ = _run(tiny_config(**kw), part_dir, max_steps=k, resume=True)
        assert s.step == k
    resumed, g_res = _run(tiny_config(**kw), part_dir, resume=True)
    assert resumed.step == full.step == full.total_steps
    for a, b in zip(full.net.arch_parameters(), resumed.net.arch_parameters(), strict=True):
        assert torch.equal(a, b)
    for (k, a), b in zip(
        full.net.state_dict().items(), resumed.net.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), k
    assert g_full.normal == g_res.normal and g_full.reduce == g_res.reduce
    assert _without_time(_metrics(tmp_path / "full")) == _without_time(_metrics(part_dir))


def test_outputs(tmp_path):
    s, g = _run(tiny_config(layers=3, order="first"), tmp_path, plots=True)
    rows = _metrics(tmp_path)
    assert [r["step"] for r in rows] == list(range(s.total_steps))
    assert all(STEP_FIELDS <= set(r) for r in rows)
    assert rows[0]["lr"] == pytest.approx(0.025) and rows[-1]["lr"] < rows[0]["lr"]
    d = json.load(open(tmp_path / "genotype.json"))
    for key in ("normal", "reduce"):
        assert len(d[key]) == 8 and all(op != "none" and isinstance(j, int) for op, j in d[key])
    assert d["normal_concat"] == d["reduce_concat"] == [2, 3, 4, 5]
    assert torch.tensor(d["alphas_normal"]).shape == (14, 8)
    assert torch.allclose(
        torch.tensor(d["alphas_reduce"], dtype=torch.float64), s.net.alphas_reduce.detach().double()
    )
    assert d["complete"] is True
    for name in ("alphas_normal.png", "alphas_reduce.png", "cell_normal.png", "cell_reduce.png"):
        with open(tmp_path / name, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["step"] == s.total_steps
    assert not any(n.endswith(".tmp") for n in os.listdir(tmp_path))


@pytest.mark.parametrize("backend", BACKENDS)
def test_gdas_runs_single_path_with_annealed_temperature(tmp_path, backend):
    cfg = tiny_config(sampler="gumbel", layers=3, epochs=3, backend=backend)
    s, _ = _run(cfg, tmp_path)
    taus = [r["tau"] for r in _metrics(tmp_path)]
    assert taus[0] == pytest.approx(10.0) and taus[-1] == pytest.approx(0.1)
    assert taus == sorted(taus, reverse=True)
    # hard one-hot weights: exactly one op per edge in a forward pass
    w = s.net.sample_weights(False)
    assert torch.equal((w != 0).sum(1), torch.ones(14, dtype=torch.long))
    assert torch.equal(w.detach().sum(1), torch.ones(14))


@pytest.mark.parametrize("backend", BACKENDS)
def test_pc_darts_partial_channels_and_betas(tmp_path, backend):
    cfg = tiny_config(partial_channels=2, channels=4, layers=3, backend=backend)
    s, g = _run(cfg, tmp_path)
    net = s.net
    assert net.betas_normal is not None and net.cells[0].edges[0].edge.C == 4 * 1 // 2 * 2 // 2
    b0 = net.betas_normal.detach().clone()
    assert not torch.allclose(b0, torch.zeros_like(b0), atol=1e-4)  # betas moved
    d = json.load(open(tmp_path / "genotype.json"))
    assert len(d["betas_normal"]) == 14
    with pytest.raises(ValueError, match="^partial_channels: "):
        SearchNetwork(
            6, 3, 3, in_channels=1, image_size=(8, 8), partial_channels=4, backend="reference"
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_p_darts_prunes_ops_and_bounds_skips(tmp_path, backend):
    cfg = tiny_config(
        progressive=True, stage_layers=[1, 1, 3], stage_ops=[5, 3], epochs=3, backend=backend
    )
    s, g = _run(cfg, tmp_path)
    rows = _metrics(tmp_path)
    assert [r["stage"] for r in rows] == [0] * 3 + [1] * 3 + [2] * 3
    assert s.net.layers == 3
    assert s.op_mask.sum(-1).eq(3).all()  # 8 -> 5 -> 3 ops per edge, 'none' kept
    assert s.op_mask[..., 0].all()
    p = s.net.probabilities(False)
    assert torch.equal(p[~s.op_mask[0]], torch.zeros_like(p[~s.op_mask[0]]))
    assert sum(op == "skip_connect" for op, _ in g.normal) <= 2
    assert rows[0]["skip_dropout"] == 0.0 or rows[0]["skip_dropout"] < 1


@pytest.mark.parametrize("metric", ["params", "flops", "latency"])
def test_cost_aware_search_lowers_the_expected_cost(tmp_path, metric):
    cfg = tiny_config(
        layers=1, order="first", complexity=metric, complexity_weight=50.0, arch_lr=0.05, epochs=2
    )
    _run(cfg, tmp_path)
    costs = [r[f"expected_{metric}"] for r in _metrics(tmp_path)]
    assert costs[-1] < costs[0]


def test_user_cost_table_replaces_the_default(tmp_path):
    table = tmp_path / "t.json"
    table.write_text(json.dumps({"costs": {"sep_conv_3x3": 1.0}}))
    cfg = tiny_config(
        layers=3,
        order="first",
        complexity="latency",
        complexity_weight=5.0,
        cost_table=str(table),
        arch_lr=0.05,
    )
    s, _ = _run(cfg, tmp_path / "o")
    # only sep_conv_3x3 costs: 1 per edge and cell, so E[cost] = sum of its probabilities
    costs = s.costs
    assert costs[..., 4].sum() == pytest.approx(14 * 3) and costs.sum() == pytest.approx(14 * 3)
    p0 = _metrics(tmp_path / "o")[-1]["expected_latency"]
    assert p0 < 14 * 3 / 8
    table.write_text(json.dumps({"costs": {"conv_7x7": 1.0}}))
    with pytest.raises(ValueError, match="^cost_table: unknown op"):
        _run(cfg, tmp_path / "o2")


@pytest.mark.parametrize(
    "kw, expect",
    [
        (dict(backend="fused", channels=16), True),
        (dict(backend="fused", channels=4), False),  # NCHW kernels below 16 channels
        (dict(backend="reference", channels=16), False),
        (dict(backend="fused", partial_channels=2, channels=16), False),
    ],
)
def test_search_network_is_channels_last_with_the_fused_edge_on_cpu(tmp_path, kw, expect):
    s = DartsSearch(tiny_config(**kw), tiny_data(), tmp_path, progress=False)
    s._enter_stage(0)
    assert s.net.channels_last == expect


@pytest.mark.parametrize(
    "kw",
    [
        dict(layers=3, epochs=1),
        dict(layers=3, sampler="gumbel", epochs=1),
        dict(layers=3, partial_channels=2, channels=4, order="first", epochs=1),
        dict(progressive=True, stage_layers=[1, 3], stage_ops=[4], stage_skip_dropout=[0.5, 0.5]),
    ],
)
def test_fused_and_reference_backends_search_alike(tmp_path, kw):
    nets = [_run(tiny_config(backend=b, **kw), tmp_path / b)[0].net for b in ("reference", "fused")]
    for a, b in zip(nets[0].arch_parameters(), nets[1].arch_parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_time_backends_reports_both_step_times():
    from nasfast.darts.timing import time_backends

    r = time_backends(tiny_config(layers=1, order="first"), tiny_data(), 2)
    assert r["fused_s"] > 0 and r["reference_s"] > 0 and r["rounds"] == 2
    assert r["ratio"] > 0
    with pytest.raises(ValueError, match="^rounds: "):
        time_backends(tiny_config(), tiny_data(), 0)
