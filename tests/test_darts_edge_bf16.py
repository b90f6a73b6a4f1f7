"""The fused DARTS edge in bfloat16: float32 arithmetic on bfloat16 values."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import each_cpu_layout, requires_cuda
from darts_edge_helpers import bf16_pair, pair, step, weights

from nasfast.nn import DartsEdge


@each_cpu_layout
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("train", [True, False])
def test_bf16_is_float32_on_the_same_values(stride, train):
    # a bfloat16 edge computes in float32: its outputs and gradients are the float32 edge's,
    # rounded to bfloat16, bit for bit
    m32, m16 = bf16_pair(stride, train)
    x = torch.randn(3, 8, 6, 8).bfloat16()
    w = weights("soft").bfloat16()
    # the same bfloat16 output gradient for both
    a = step(m32, x.float(), w.float(), g_dtype=torch.bfloat16)
    b = step(m16, x, w)
    for name, got, want in zip(("out", "grad x", "grad w"), b[:3], a[:3], strict=True):
        assert got.dtype == torch.bfloat16, name
        assert torch.equal(got, want.bfloat16()), name
    assert a[3].keys() == b[3].keys()
    for n in a[3]:
        assert (a[3][n] is None) == (b[3][n] is None), n
        if a[3][n] is not None:
            assert torch.equal(b[3][n], a[3][n].bfloat16()), n
    for n in a[4]:  # running statistics: updated in bfloat16 arithmetic
        torch.testing.assert_close(b[4][n].float(), a[4][n].float(), rtol=2e-2, atol=1e-2)


@each_cpu_layout
def test_bf16_close_to_float64_reference():
    ref, _ = pair(8, 1, True)
    _, m16 = bf16_pair(1, True)
    ref.load_state_dict({k: v.double() for k, v in m16.state_dict().items()})
    x = torch.randn(4, 8, 8, 8).bfloat16()
    w = weights("soft").bfloat16()
    a = step(ref, x.double(), w.double(), g_dtype=torch.bfloat16)
    b = step(m16, x, w)
    for name, got, want in zip(("out", "grad x", "grad w"), b[:3], a[:3], strict=True):
        rel = float((got.double() - want).norm() / want.norm())
        assert rel < 1e-2, (name, rel)


def test_bf16_opcheck():
    m = DartsEdge(8, 1).to(torch.bfloat16)
    x = torch.randn(2, 8, 6, 6, dtype=torch.bfloat16, requires_grad=True)
    w = weights("soft").bfloat16().requires_grad_()
    args = (x, w, m._conv_weights(), x.new_empty(0), 1, True, 1e-5, 255, True)
    torch.library.opcheck(torch.ops.nasfast.darts_edge_forward.default, args)
    out, stats, saved = torch.ops.nasfast.darts_edge_forward(*args)
    assert (out.dtype, stats.dtype, saved.dtype) == (torch.bfloat16, torch.float32, torch.float32)
    g = torch.randn_like(out)
    cw = [c.detach() for c in m._conv_weights()]
    bargs = (g, x.detach(), w.detach(), cw, stats, saved, 1, True, 255, True, True, True)
    torch.library.opcheck(torch.ops.nasfast.darts_edge_backward.default, bargs)
    with pytest.raises(ValueError, match="^weights: expected dtype"):
        torch.ops.nasfast.darts_edge_forward(x, w.float(), *args[2:])


@requires_cuda
@pytest.mark.parametrize("stride", [1, 2])
def test_cuda_bf16_matches_cpu_bf16(stride):
    # both compute in float32 on the same values; only the summation order differs
    m32, m16 = bf16_pair(stride, True)
    m16_cuda = copy.deepcopy(m16).cuda()
    x = torch.randn(3, 8, 6, 8).bfloat16()
    w = weights("soft").bfloat16()
    a = step(m16, x, w)
    b = step(m16_cuda, x.cuda(), w.cuda())
    for name, got, want in zip(("out", "grad x", "grad w"), b[:3], a[:3], strict=True):
        assert got.dtype == torch.bfloat16, name
        torch.testing.assert_close(got.cpu(), want, rtol=1.6e-2, atol=1e-2, msg=name)
