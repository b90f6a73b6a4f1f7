"""The fused DARTS edge module against its reference twin (float64), under each CPU layout."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import each_cpu_layout, requires_cuda
from darts_edge_helpers import DT, TOL, assert_same, pair, step, weights

from nasfast.nn import PRIMITIVES, DartsEdge


@each_cpu_layout
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize(
    ("stride", "shape"),
    [
        (1, (3, 8, 10, 12)),
        (2, (3, 8, 10, 12)),
        (1, (1, 4, 6, 8)),
        (2, (1, 4, 6, 8)),
        (1, (2, 6, 7, 9)),
        (2, (2, 4, 14, 36)),
        # channels-last GEMMs with 3 vectors of channels, and 8 (column blocks), in float64;
        # 17 vectors: the GEMMs go to ATen
        (1, (2, 12, 5, 7)),
        (2, (2, 32, 6, 6)),
        (1, (2, 68, 4, 4)),
    ],
    ids=["s1", "s2", "s1-batch1", "s2-batch1", "s1-odd", "s2-wide", "s1-c12", "s2-c32", "s1-c68"],
)
def test_matches_reference(stride, train, shape):
    # odd H/W at stride 2 is refused by both backends: test_odd_stride2_refused
    ref, fused = pair(shape[1], stride, train)
    x = torch.randn(shape, dtype=DT)
    w = weights("soft")
    assert_same(step(ref, x, w), step(fused, x, w))


@each_cpu_layout
def test_parametrized_conv_weight():
    # the fused backend reads conv weights by a dict lookup; a parametrized weight is a property
    # instead, and must still be used (and get its gradient through the parametrization)
    from torch.nn.utils import parametrize

    class Double(torch.nn.Module):
        def forward(self, w):
            return 2 * w

    ref, fused = pair(8, 1, True)
    for m in (ref, fused):
        parametrize.register_parametrization(m.ops[4].op[2], "weight", Double())
    x = torch.randn(2, 8, 6, 6, dtype=DT)
    assert_same(step(ref, x, weights("soft")), step(fused, x, weights("soft")))


@each_cpu_layout
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("layout", ["transposed", "sliced", "channels_last"])
def test_strided_inputs(stride, layout):
    ref, fused = pair(4, stride, True)
    if layout == "transposed":
        x = torch.randn(2, 4, 8, 6, dtype=DT).transpose(2, 3)
    elif layout == "sliced":
        x = torch.randn(2, 8, 6, 16, dtype=DT)[:, ::2, :, ::2]
    else:
        x = torch.randn(2, 4, 6, 8, dtype=DT).to(memory_format=torch.channels_last)
    assert not x.is_contiguous()
    w = weights("soft")
    assert_same(step(ref, x, w), step(fused, x, w))


@each_cpu_layout
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("kind", ["onehot", "zeros"])
def test_special_weights(stride, kind):
    ref, fused = pair(4, stride, True)
    x = torch.randn(2, 4, 6, 6, dtype=DT)
    w = weights(kind)
    assert_same(step(ref, x, w), step(fused, x, w))


@each_cpu_layout
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("j", range(len(PRIMITIVES)))
def test_single_path(stride, j):
    ref, fused = pair(4, stride, True)
    x = torch.randn(2, 4, 6, 6, dtype=DT)
    w = torch.zeros(8, dtype=DT)
    w[j] = 1.0
    assert_same(step(ref, x, w, single_path=True), step(fused, x, w, single_path=True))


@each_cpu_layout
def test_running_stats_over_steps():
    ref, fused = pair(4, 2, True)
    for i in range(3):
        x = torch.randn(2, 4, 6, 6, dtype=DT) * (i + 1)
        step(ref, x, weights("soft", i))
        step(fused, x, weights("soft", i))
    for (n, a), (_, b) in zip(ref.named_buffers(), fused.named_buffers(), strict=True):
        torch.testing.assert_close(b, a, **TOL, msg=lambda m, n=n: f"{n}: {m}")
    assert int(fused.ops[4].op[3].num_batches_tracked) == 3
    ref.eval()
    fused.eval()
    x = torch.randn(2, 4, 6, 6, dtype=DT)
    assert_same(step(ref, x, weights("soft")), step(fused, x, weights("soft")))


@each_cpu_layout
@pytest.mark.parametrize("momenta", ["none", "mixed"])
def test_running_stats_any_momentum(momenta):
    # every BatchNorm momentum (None = cumulative average, or differing per slot) as nn.BatchNorm2d
    ref, fused = pair(4, 1, True)
    for m in (ref, fused):
        for j, b in enumerate(b for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)):
            b.momentum = None if momenta == "none" else 0.05 * (j + 1)
    x = torch.randn(2, 4, 6, 6, dtype=DT)
    for seed in (1, 2):
        assert_same(
            step(ref, x * seed, weights("soft"), seed),
            step(fused, x * seed, weights("soft"), seed),
        )


@each_cpu_layout
@pytest.mark.parametrize(
    ("stride", "shape"), [(1, (4, 8, 12, 12)), (1, (4, 16, 8, 10)), (2, (4, 16, 8, 10))]
)
def test_float32_close(stride, shape):
    ref, fused = pair(shape[1], stride, True, dtype=torch.float32)
    x = torch.randn(shape)
    w = weights("soft").float()
    assert_same(step(ref, x, w), step(fused, x, w), tol=dict(rtol=1e-4, atol=1e-4))


@each_cpu_layout
def test_replaced_primitive_is_used():
    # the fused backend caches where its conv weights live; replacing a primitive refreshes it
    ref, fused = pair(4, 2, True)
    x, w = torch.randn(2, 4, 6, 6, dtype=DT), weights("soft")
    ref(x, w)
    fused(x, w)
    torch.manual_seed(5)
    new = DartsEdge(4, 2).double()
    for m in (ref, fused):
        m.ops[5] = copy.deepcopy(new.ops[5])
        m.ops[3] = copy.deepcopy(new.ops[3])
    assert_same(step(ref, x, w), step(fused, x, w))


def _frozen_step(m: DartsEdge, x, w, need_x: bool, need_w: bool):
    """One backward with every conv weight frozen (the architect's alpha-only pass)."""
    for p in m.parameters():
        p.requires_grad_(False)
    x = x.detach().clone().requires_grad_(need_x)
    w = w.detach().clone().requires_grad_(need_w)
    y = m(x, w)
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=y.dtype)
    # a parameter-free head keeps the graph alive when neither x nor w needs a gradient
    (y * g).sum().backward()
    return x.grad, w.grad, [p.grad for p in m.parameters()]


@each_cpu_layout
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize(("need_x", "need_w"), [(True, True), (False, True), (True, False)])
def test_frozen_conv_weights(stride, train, need_x, need_w):
    ref, fused = pair(4, stride, train)
    x = torch.randn(2, 4, 6, 8, dtype=DT)
    w = weights("soft")
    gx_r, gw_r, gp_r = _frozen_step(ref, x, w, need_x, need_w)
    gx_f, gw_f, gp_f = _frozen_step(fused, x, w, need_x, need_w)
    assert all(g is None for g in gp_r + gp_f)
    for a, b, need in ((gx_r, gx_f, need_x), (gw_r, gw_f, need_w)):
        if need:
            torch.testing.assert_close(b, a, **TOL)
        else:
            assert a is None and b is None


@requires_cuda
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("train", [True, False])
def test_cuda_matches_cpu_reference(stride, train):
    ref, fused = pair(4, stride, train)
    fused = fused.cuda()
    x = torch.randn(2, 4, 6, 8, dtype=DT)
    w = weights("soft")
    a = step(ref, x, w)
    y, gx, gw, grads, bufs = step(fused, x.cuda(), w.cuda())
    b = (
        y.cpu(),
        gx.cpu(),
        gw.cpu(),
        {n: g.cpu() for n, g in grads.items()},
        {n: t.cpu() for n, t in bufs.items()},
    )
    assert_same(a, b)
