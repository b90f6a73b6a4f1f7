"""The fused DARTS edge's registered ops: opcheck, the kept pointwise outputs, the running
statistics update, autograd and torch.compile."""

from __future__ import annotations

import pytest
import torch
from conftest import devices, each_cpu_layout
from darts_edge_helpers import DT, TOL, assert_same, op_args, pair, step, weights

from nasfast.nn import DartsEdge
from nasfast.ops.darts_edge import NUM_SLOTS


@pytest.mark.parametrize("C", [16, 4])
def test_opcheck_channels_last_input(C):
    # the fake implementations give the real outputs' memory formats (C=16 runs the channels-last
    # kernels, C=4 the NCHW ones)
    torch.manual_seed(0)
    m = DartsEdge(C, 1).to(DT)
    x = torch.randn(2, C, 6, 6, dtype=DT).to(memory_format=torch.channels_last)
    cw = m._conv_weights()
    args = (x, weights("soft"), cw, x.new_empty(0), 1, True, 1e-5, 255, True)
    torch.library.opcheck(torch.ops.nasfast.darts_edge_forward.default, args)
    out, stats, saved = torch.ops.nasfast.darts_edge_forward(*args)
    g = torch.randn_like(out)
    bargs = (g, x, weights("soft"), [c.detach() for c in cw], stats, saved, 1, True, 255)
    for need in [(True, True, True), (False, True, False)]:
        torch.library.opcheck(torch.ops.nasfast.darts_edge_backward.default, (*bargs, *need))


@pytest.mark.slow
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("save", [True, False])
@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_opcheck(stride, train, save, device, dtype):
    m, x, w, cw, running = op_args(stride, train, device, dtype)
    args = (x, w, cw, running, stride, train, 1e-5, 255, save)
    torch.library.opcheck(torch.ops.nasfast.darts_edge_forward.default, args)
    out, stats, saved = torch.ops.nasfast.darts_edge_forward(*args)
    assert saved.shape == ((6 + (stride == 2), *out.shape) if save else (0,))
    g = torch.randn_like(out)
    bargs = (g, x.detach(), w.detach(), [c.detach() for c in cw], stats, saved, stride, train, 255)
    for need in [
        (True, True, True),
        (True, True, False),
        (False, True, False),
        (True, False, True),
    ]:
        torch.library.opcheck(torch.ops.nasfast.darts_edge_backward.default, (*bargs, *need))


@each_cpu_layout
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("active", [255, 1 << 4, 1 << 3, (1 << 6) | (1 << 1)])
def test_backward_with_saved_equals_recompute(stride, active):
    # the kept pointwise outputs are exactly what the backward would recompute from x
    _, x, w, cw, _ = op_args(stride, True)
    fwd = torch.ops.nasfast.darts_edge_forward
    out, stats, saved = fwd(x, w, cw, x.new_empty(0), stride, True, 1e-5, active, True)
    out2, stats2, none = fwd(x, w, cw, x.new_empty(0), stride, True, 1e-5, active, False)
    assert none.numel() == 0
    torch.testing.assert_close(out2, out, rtol=0, atol=0)
    torch.testing.assert_close(stats2, stats, rtol=0, atol=0)
    g = torch.randn_like(out)
    args = (g, x.detach(), w.detach(), [c.detach() for c in cw], stats)
    for need in [(True, True, True), (True, True, False), (False, True, False)]:
        a = torch.ops.nasfast.darts_edge_backward(*args, saved, stride, True, active, *need)
        b = torch.ops.nasfast.darts_edge_backward(*args, none, stride, True, active, *need)
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@each_cpu_layout
def test_frozen_conv_weights_skips_their_grads():
    # the backward op is asked for no conv-weight gradient and returns none
    _, x, w, cw, _ = op_args(2, True)
    out, stats, saved = torch.ops.nasfast.darts_edge_forward(
        x, w, cw, x.new_empty(0), 2, True, 1e-5, 255, True
    )
    args = (
        torch.ones_like(out),
        x.detach(),
        w.detach(),
        [c.detach() for c in cw],
        stats,
        saved,
        2,
        True,
    )
    full = torch.ops.nasfast.darts_edge_backward(*args, 255, True, True, True)
    gx, gw, gcw = torch.ops.nasfast.darts_edge_backward(*args, 255, True, True, False)
    assert gcw == [] and len(full[2]) == 14
    torch.testing.assert_close(gx, full[0], rtol=0, atol=0)
    torch.testing.assert_close(gw, full[1], rtol=0, atol=0)
    _, gw_only, _ = torch.ops.nasfast.darts_edge_backward(*args, 255, False, True, False)
    torch.testing.assert_close(gw_only, full[1], rtol=0, atol=0)


def _running_update_args(layout: str, device: str):
    """(means, variances, counts, stats, slots, momentum) and the expected means / variances."""
    C, slots, m = 4, [0, 3, 8], 0.1
    stats = torch.rand(3, NUM_SLOTS, C, dtype=DT, device=device)
    base = torch.rand(2, len(slots), 2 * C, dtype=DT, device=device)
    if layout == "strided":
        means, variances = list(base[0, :, ::2]), list(base[1, :, ::2])
    else:
        dt = DT if layout == "contiguous" else torch.float32
        means, variances = list(base[0, :, :C].to(dt)), list(base[1, :, :C].to(dt))
        if layout == "float32":
            stats = stats.to(dt)
    counts = [torch.tensor(5, device=device) for _ in slots]
    want_m = [
        (1 - m) * t.double() + m * stats[0, s].double() for t, s in zip(means, slots, strict=True)
    ]
    want_v = [
        (1 - m) * t.double() + m * stats[2, s].double()
        for t, s in zip(variances, slots, strict=True)
    ]
    return (means, variances, counts, stats, slots, m), want_m + want_v


RUNNING_LAYOUTS = ["contiguous", "strided", "float32", "mixed_dtype"]


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("layout", RUNNING_LAYOUTS)
def test_running_update_op(layout, device):
    # the op against the nn.BatchNorm2d formula: its raw kernel (CPU loop, one CUDA launch) and
    # its ATen fallback (strided buffers, buffers of another dtype than stats)
    (means, variances, counts, stats, slots, m), want = _running_update_args(layout, device)
    torch.ops.nasfast.darts_edge_running_update(means, variances, counts, stats, slots, m)
    tol = TOL if means[0].dtype == DT else dict(rtol=1e-6, atol=1e-7)
    for got, w in zip(means + variances, want, strict=True):
        torch.testing.assert_close(got.double(), w, **tol)
    assert all(int(c) == 6 for c in counts)
    with pytest.raises(ValueError, match="^slots: expected values in"):
        torch.ops.nasfast.darts_edge_running_update(means, variances, counts, stats, [0, 3, 9], m)
    with pytest.raises(ValueError, match="running_mean, running_var, num_batches_tracked"):
        torch.ops.nasfast.darts_edge_running_update(means[:2], variances, counts, stats, slots, m)


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("layout", RUNNING_LAYOUTS)
def test_running_update_opcheck(layout, device):
    args, _ = _running_update_args(layout, device)
    torch.library.opcheck(torch.ops.nasfast.darts_edge_running_update.default, args)


def test_double_backward_refused():
    m = DartsEdge(4, 1)
    x = torch.randn(2, 4, 6, 6, requires_grad=True)
    y = m(x, weights("soft").float())
    with pytest.raises(RuntimeError, match="double backward"):
        torch.autograd.grad(y.sum(), x, create_graph=True)


def test_compiles_fullgraph():
    ref, fused = pair(4, 1, True)
    x, w = torch.randn(2, 4, 6, 6, dtype=DT), weights("soft")
    a = step(ref, x, w)
    compiled = torch.compile(fused, fullgraph=True, backend="aot_eager")
    y, gx, gw, grads, bufs = step(compiled, x, w)
    strip = "_orig_mod."
    grads = {k.removeprefix(strip): v for k, v in grads.items()}
    assert_same(a, (y, gx, gw, grads, {k.removeprefix(strip): v for k, v in bufs.items()}))
