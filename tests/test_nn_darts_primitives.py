"""The one DARTS primitive factory (search and evaluation variants) and the one ReLUConvBN."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nasfast.nn.darts_primitives import (
    PRIMITIVES,
    DilConv,
    FactorizedReduce,
    ReLUConvBN,
    SepConv,
    Zero,
    make_primitive,
)


def _batch_norms(m: nn.Module) -> list[nn.BatchNorm2d]:
    return [b for b in m.modules() if isinstance(b, nn.BatchNorm2d)]


@pytest.mark.parametrize("name", PRIMITIVES[1:])
@pytest.mark.parametrize("stride", [1, 2])
def test_search_variant_has_no_affine_batch_norm_and_eval_variant_has(name, stride):
    search = make_primitive(name, 4, stride)
    derived = make_primitive(name, 4, stride, search=False)
    assert all(not b.affine for b in _batch_norms(search))
    if "pool" in name:  # the search cell normalizes its pools; the derived cell does not
        assert len(_batch_norms(search)) == 1 and _batch_norms(derived) == []
    else:
        assert all(b.affine for b in _batch_norms(derived))
        assert len(_batch_norms(search)) == len(_batch_norms(derived))
    x = torch.randn(2, 4, 8, 8)
    assert search(x).shape == derived(x).shape == (2, 4, 8 // stride, 8 // stride)


def test_factory_builds_the_named_modules():
    assert isinstance(make_primitive("none", 4, 2), Zero)
    assert isinstance(make_primitive("skip_connect", 4, 2, search=False), FactorizedReduce)
    assert isinstance(make_primitive("skip_connect", 4, 1), nn.Identity)
    assert isinstance(make_primitive("sep_conv_5x5", 4, 1), SepConv)
    assert isinstance(make_primitive("dil_conv_3x3", 4, 1, search=False), DilConv)
    with pytest.raises(ValueError, match="^name: .*got 'none'"):
        make_primitive("none", 4, 1, search=False)
    with pytest.raises(ValueError, match="^name: "):
        make_primitive("conv_7x7", 4, 1)


def test_relu_conv_bn_names_its_layers_and_loads_either_key_layout():
    torch.manual_seed(0)
    m = ReLUConvBN(3, 5, 3, 1, 1)
    assert m.conv is m.op[1] and m.bn is m.op[2] and m.bn.affine
    x = torch.randn(2, 3, 6, 6)
    torch.testing.assert_close(m(x), m.bn(m.conv(torch.relu(x))))
    renamed = {
        k.replace("op.1.", "conv.").replace("op.2.", "bn."): v for k, v in m.state_dict().items()
    }
    other = ReLUConvBN(3, 5, 3, 1, 1)
    other.load_state_dict(renamed)
    for k, v in m.state_dict().items():
        assert torch.equal(other.state_dict()[k], v)
