"""``darts_edge_reference`` (the functional twin in nasfast/ops/darts_edge.py) against the fused
op: outputs, statistics and every gradient, float64, both strides, training and eval, subsets
of primitives, both CPU layouts (C=4 runs NCHW, C=8 channels-last where forced)."""

from __future__ import annotations

import pytest
import torch

from nasfast import _C
from nasfast.ops.darts_edge import ALL_OPS, darts_edge_fused, darts_edge_reference

TOL = dict(rtol=1e-9, atol=1e-10)


def _conv_shapes(C: int, stride: int) -> list[tuple[int, ...]]:
    dw3, dw5, pw = (C, 1, 3, 3), (C, 1, 5, 5), (C, C, 1, 1)
    shapes = [dw3, pw, dw3, pw, dw5, pw, dw5, pw, dw3, pw, dw5, pw]
    return shapes + ([(C // 2, C, 1, 1)] * 2 if stride == 2 else [])


def _inputs(N: int, C: int, H: int, W: int, stride: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((N, C, H, W), generator=g, dtype=torch.float64)
    w = torch.softmax(torch.randn(8, generator=g, dtype=torch.float64), 0)
    cw = [torch.randn(s, generator=g, dtype=torch.float64) * 0.4 for s in _conv_shapes(C, stride)]
    running = torch.rand((2, 9, C), generator=g, dtype=torch.float64) + 0.5
    grad = torch.randn(
        (N, C, (H - 1) // stride + 1, (W - 1) // stride + 1), generator=g, dtype=torch.float64
    )
    return x, w, cw, running, grad


def _run(fn, x, w, cw, running, grad, stride, training, active):
    leaves = [t.detach().clone().requires_grad_() for t in (x, w, *cw)]
    out, stats = fn(leaves[0], leaves[1], leaves[2:], running, stride, training, 1e-5, active)
    out.backward(grad)
    return out.detach(), stats, [t.grad for t in leaves]


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
@pytest.mark.parametrize(
    ("stride", "training", "active", "shape"),
    [
        (1, True, ALL_OPS, (2, 4, 5, 6)),
        (2, True, ALL_OPS, (2, 8, 6, 6)),
        (1, False, ALL_OPS, (3, 8, 4, 5)),
        (2, False, ALL_OPS, (2, 4, 4, 6)),
        (1, True, 1 << 5, (2, 4, 5, 5)),
        (2, True, (1 << 3) | (1 << 1), (2, 8, 6, 4)),
    ],
)
def test_reference_matches_fused(layout, stride, training, active, shape):
    old = _C._darts_edge_layout(layout)
    try:
        args = _inputs(*shape, stride, seed=stride + 10 * shape[1])
        out_r, stats_r, grads_r = _run(darts_edge_reference, *args, stride, training, active)
        out_f, stats_f, grads_f = _run(darts_edge_fused, *args, stride, training, active)
    finally:
        _C._darts_edge_layout(old)
    torch.testing.assert_close(out_r, out_f, **TOL)
    torch.testing.assert_close(stats_r, stats_f, **TOL)
    for i, (a, b) in enumerate(zip(grads_r, grads_f, strict=True)):
        if a is None or b is None:  # conv weights of an inactive primitive: no gradient on both
            assert a is None or not a.any(), f"grad {i}"
            assert b is None or not b.any(), f"grad {i}"
            continue
        torch.testing.assert_close(a, b, **TOL, msg=f"grad {i}")


def test_reference_none_only_is_zeros():
    x, w, cw, running, _ = _inputs(2, 4, 5, 5, 1, seed=0)
    out, stats = darts_edge_reference(x, w, cw, running, 1, True, 1e-5, active=1)
    assert out.shape == x.shape and not out.any()
    assert stats.shape == (3, 9, 4) and not stats.any()
