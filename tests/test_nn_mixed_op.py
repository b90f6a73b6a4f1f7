import pytest
import torch
from torch import nn

from nasfast.nn import MixedOp


def _ops():
    torch.manual_seed(0)
    return [nn.Conv2d(3, 3, 3, padding=1), nn.Identity(), nn.AvgPool2d(3, 1, 1), nn.ReLU()]


def test_fused_and_reference_modules_agree_in_output_and_grads():
    x = torch.randn(2, 3, 6, 6)
    fused = MixedOp(_ops(), backend="fused")
    ref = MixedOp(_ops(), backend="reference")
    ref.load_state_dict(fused.state_dict())
    with torch.no_grad():
        fused.alpha.copy_(torch.randn(4))
        ref.alpha.copy_(fused.alpha)
    yf, yr = fused(x), ref(x)
    torch.testing.assert_close(yf, yr)
    yf.square().sum().backward()
    yr.square().sum().backward()
    torch.testing.assert_close(fused.alpha.grad, ref.alpha.grad)
    torch.testing.assert_close(fused.ops[0].weight.grad, ref.ops[0].weight.grad)


def test_external_alpha_and_gumbel_hard_mode():
    m = MixedOp(_ops(), mode="gumbel", hard=True, own_alpha=False)
    assert m.alpha is None
    x = torch.randn(1, 3, 4, 4)
    alpha = torch.zeros(4, requires_grad=True)
    y = m(x, alpha, generator=torch.Generator().manual_seed(0))
    outs = [op(x) for op in m.ops]
    assert any(torch.equal(y, o) for o in outs)
    with pytest.raises(ValueError, match="alpha: this MixedOp owns no alpha"):
        m(x)


def test_empty_ops_rejected():
    with pytest.raises(ValueError, match="ops: expected at least one module"):
        MixedOp([])
