"""Shared setup of the fused DARTS edge tests: a reference/fused pair holding the same numbers,
one forward+backward step, and comparisons of what a step returns."""

from __future__ import annotations

import copy

import torch

from nasfast import _C
from nasfast.nn import DartsEdge
from nasfast.ops.darts_edge import NUM_SLOTS

DT = torch.float64
TOL = dict(rtol=1e-9, atol=1e-11)


def pair(C: int, stride: int, train: bool, seed: int = 0, dtype=DT):
    torch.manual_seed(seed)
    ref = DartsEdge(C, stride, backend="reference").to(dtype)
    fused = DartsEdge(C, stride, backend="fused").to(dtype)
    fused.load_state_dict(ref.state_dict())
    ref.train(train)
    fused.train(train)
    if not train:  # non-trivial running statistics
        with torch.no_grad():
            for (_, a), (_, b) in zip(ref.named_buffers(), fused.named_buffers(), strict=True):
                if a.is_floating_point():
                    a.uniform_(0.5, 1.5)
                    b.copy_(a)
    return ref, fused


def step(
    m: DartsEdge, x: torch.Tensor, w: torch.Tensor, g_seed: int = 1, single_path=False, g_dtype=None
):
    """One forward+backward; the output gradient is drawn in ``g_dtype`` (default: the output's
    dtype) and cast to the output's dtype."""
    x = x.detach().clone().requires_grad_()
    w = w.detach().clone().requires_grad_()
    y = m(x, w, single_path=single_path)
    gen = torch.Generator().manual_seed(g_seed)
    g = torch.randn(y.shape, generator=gen, dtype=g_dtype or y.dtype).to(y.dtype)
    y.backward(g.to(y.device))
    grads = {n: p.grad for n, p in m.named_parameters()}
    return y.detach(), x.grad, w.grad, grads, {n: b.clone() for n, b in m.named_buffers()}


def assert_same(a, b, tol=TOL):
    ya, gxa, gwa, pa, ba = a
    yb, gxb, gwb, pb, bb = b
    torch.testing.assert_close(yb, ya, **tol)
    torch.testing.assert_close(gxb, gxa, **tol)
    torch.testing.assert_close(gwb, gwa, **tol)
    assert pa.keys() == pb.keys()
    for n in pa:
        if pa[n] is None:
            assert pb[n] is None, n
        else:
            assert pb[n] is not None, n
            torch.testing.assert_close(pb[n], pa[n], **tol, msg=lambda m, n=n: f"{n}: {m}")
    assert list(ba) == list(bb)
    for n in ba:
        torch.testing.assert_close(bb[n], ba[n], **tol, msg=lambda m, n=n: f"{n}: {m}")


def weights(kind: str, seed: int = 2) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    w = torch.softmax(torch.randn(8, generator=gen, dtype=DT), 0)
    if kind == "onehot":
        return torch.zeros(8, dtype=DT).index_fill_(0, torch.tensor([5]), 1.0)
    if kind == "zeros":
        return w * torch.tensor([1, 0, 1, 0, 1, 0, 0, 1], dtype=DT)
    return w


def fused_step(layout: str, C: int, H: int, W: int, stride: int = 1, dtype=DT):
    """One step of a fused edge with the CPU kernels' layout forced to ``layout``."""
    old = _C._darts_edge_layout(layout)
    try:
        _, fused = pair(C, stride, True, dtype=dtype)
        x = torch.randn(3, C, H, W, dtype=dtype, generator=torch.Generator().manual_seed(5))
        return step(fused, x, weights("soft").to(dtype))
    finally:
        _C._darts_edge_layout(old)


def bitwise_equal(a, b) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a[:3], b[:3], strict=True)) and all(
        torch.equal(a[3][n], b[3][n]) for n in a[3]
    )


def bf16_pair(stride: int, train: bool, device: str = "cpu"):
    """A float32 fused edge whose parameters and buffers are bfloat16 values, and its bfloat16
    copy: both hold the same numbers."""
    _, m32 = pair(8, stride, train, dtype=torch.float32)
    with torch.no_grad():
        for t in [*m32.parameters(), *m32.buffers()]:
            if t.is_floating_point():
                t.copy_(t.bfloat16().float())
    return m32.to(device), copy.deepcopy(m32).to(torch.bfloat16).to(device)


def op_args(stride: int, train: bool, device: str = "cpu", dtype=DT):
    """A fused edge's op arguments: (module, x, weights, conv weights, running statistics)."""
    C = 4 if dtype == torch.float64 else 8  # one vector: the channels-last kernels can run
    torch.manual_seed(0)
    m = DartsEdge(C, stride).to(dtype).to(device)
    x = torch.randn(2, C, 6, 6, dtype=dtype, device=device, requires_grad=True)
    w = weights("soft").to(dtype).to(device).requires_grad_()
    cw = m._conv_weights()
    running = (
        x.new_empty(0) if train else torch.rand(2, NUM_SLOTS, C, dtype=dtype, device=device) + 0.5
    )
    return m, x, w, cw, running
