"""What the fused DARTS edge keeps for backward and where its intermediates come from."""

from __future__ import annotations

import pytest
import torch
from conftest import each_cpu_layout
from darts_edge_helpers import DT, assert_same, pair, step, weights

from nasfast.bench.saved_bytes import saved_tensor_bytes
from nasfast.nn import DartsEdge


def test_saves_only_when_a_backward_can_follow(monkeypatch):
    # the forward op is asked to keep its pointwise outputs only with grad enabled and some
    # input requiring grad
    import nasfast.ops.darts_edge as ops_mod

    asked = []
    real = torch.ops.nasfast.darts_edge_forward

    class Recorder:
        def __call__(self, *args):
            asked.append(args[-1])
            return real(*args)

    monkeypatch.setattr(ops_mod.torch.ops.nasfast, "darts_edge_forward", Recorder())
    m = DartsEdge(4, 1)
    x = torch.randn(2, 4, 6, 6)
    w = weights("soft").float()
    with torch.no_grad():
        m(x, w)
    m.requires_grad_(False)
    m(x, w)
    m.requires_grad_(True)
    m(x, w)
    assert asked == [False, False, True]
    _, total = saved_tensor_bytes(lambda: m(x, w))
    assert total > 6 * x.numel() * 4  # the six pointwise outputs are kept


@each_cpu_layout
@pytest.mark.parametrize("stride", [1, 2])
def test_saved_bytes_at_most_a_third(stride):
    ref, fused = pair(8, stride, True, dtype=torch.float32)
    x = torch.randn(4, 8, 16, 16, requires_grad=True)
    w = weights("soft").float().requires_grad_()
    ref_unique, _ = saved_tensor_bytes(lambda: ref(x, w))
    _, fused_total = saved_tensor_bytes(lambda: fused(x, w))
    # the fused op keeps x, the weights, the conv weights, [3, 9, C] statistics and the
    # pointwise outputs feeding a BatchNorm (6 of x's size at stride 1, 7 of a quarter at 2)
    assert fused_total <= ref_unique / 3, (fused_total, ref_unique)


def test_backward_materialises_no_gradient_for_stats_or_saved():
    # by default autograd hands a custom Function zero-filled gradients for outputs nobody used:
    # here stats and saved (six tensors of the output's size), a large memset every step
    from torch.utils._python_dispatch import TorchDispatchMode

    class FiveD(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            outs = out if isinstance(out, (tuple, list)) else (out,)
            if any(isinstance(t, torch.Tensor) and t.dim() == 5 for t in outs):
                self.ops.append(str(func))
            return out

    _, fused = pair(4, 1, True)
    x = torch.randn(2, 4, 6, 6, dtype=DT, requires_grad=True)
    y = fused(x, weights("soft").requires_grad_())
    with FiveD() as mode:
        y.sum().backward()
    assert mode.ops == []
    assert x.grad is not None


@each_cpu_layout
def test_intermediates_come_from_the_cpu_cache():
    import nasfast

    ref, fused = pair(16, 1, True, dtype=torch.float32)
    x = torch.randn(4, 16, 8, 8)
    w = weights("soft").float()

    def one_step(m):
        m.zero_grad(set_to_none=True)
        y, gx, gw, grads, bufs = step(m, x, w)
        return y, gx, gw, {n: g.clone() for n, g in grads.items()}, bufs

    nasfast.empty_cpu_cache()
    assert nasfast.cpu_cache_bytes() == 0
    a = one_step(fused)
    held = nasfast.cpu_cache_bytes()
    # the step's freed intermediates are kept (at least a few of x's size), within the cap
    assert 4 * x.numel() * 4 <= held <= nasfast.max_cpu_cache_bytes()
    b = one_step(fused)  # reuses them: nothing more held
    assert nasfast.cpu_cache_bytes() == held
    assert_same(a[:4] + (b[4],), b, tol=dict(rtol=0, atol=0))  # running stats moved on
    nasfast.empty_cpu_cache()
    assert nasfast.cpu_cache_bytes() == 0
    fused.load_state_dict(ref.state_dict())
    assert_same(one_step(ref), one_step(fused), tol=dict(rtol=1e-4, atol=1e-4))
