"""DartsEdge loads state dicts of its own layout and of the DARTS reference code's ``MixedOp``
(ops kept in ``_ops``), also nested in a cell that keeps its edges in ``_ops`` as that code's."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from nasfast.nn import DartsEdge


def _reference_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The keys the reference code's modules give the same tensors: ``ops.`` -> ``_ops.``."""
    return {re.sub(r"(^|\.)ops\.", r"\1_ops.", k): v.clone() for k, v in state.items()}


class _Cell(nn.Module):
    """A search cell holding its edges in ``_ops`` (as the reference code's ``Cell``)."""

    def __init__(self, C: int):
        super().__init__()
        self._ops = nn.ModuleList([DartsEdge(C, 1), DartsEdge(C, 2)])


def _randomized(module: nn.Module, seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
    return module


@pytest.mark.parametrize("stride", [1, 2])
def test_an_original_layout_state_dict_loads_strictly(stride):
    source = _randomized(DartsEdge(4, stride), seed=1)
    original = _reference_layout(source.state_dict())
    assert all(k.startswith("_ops.") for k in original)
    edge = DartsEdge(4, stride)
    edge.load_state_dict(original)  # strict
    for k, v in source.state_dict().items():
        torch.testing.assert_close(edge.state_dict()[k], v, rtol=0, atol=0)
    x, w = torch.randn(2, 4, 6, 6), torch.softmax(torch.randn(8), 0)
    edge.eval(), source.eval()
    torch.testing.assert_close(edge(x, w), source(x, w))


def test_nested_original_layout_loads_every_edge():
    source = _randomized(_Cell(4), seed=2)
    original = _reference_layout(source.state_dict())
    assert any(k.startswith("_ops.1._ops.3.conv_1") for k in original)
    cell = _Cell(4)
    result = cell.load_state_dict(original, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for k, v in source.state_dict().items():
        assert torch.equal(cell.state_dict()[k], v), k


def test_own_layout_still_loads_and_a_wrong_key_still_fails():
    source = _randomized(DartsEdge(4, 1), seed=3)
    edge = DartsEdge(4, 1)
    edge.load_state_dict(source.state_dict())
    assert torch.equal(edge.ops[4].op[1].weight, source.ops[4].op[1].weight)
    bad = {**_reference_layout(source.state_dict()), "_ops.9.weight": torch.zeros(1)}
    with pytest.raises(RuntimeError, match="Unexpected key"):
        DartsEdge(4, 1).load_state_dict(bad)
