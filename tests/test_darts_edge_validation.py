"""Bad input to the fused DARTS edge (module and ops): one-line ValueErrors naming the argument;
state dicts that cross between the backends."""

from __future__ import annotations

import pytest
import torch
from darts_edge_helpers import op_args, weights

from nasfast.nn import DartsEdge


def test_state_dict_names_cross():
    for s in (1, 2):
        a = DartsEdge(4, s, backend="reference").state_dict()
        b = DartsEdge(4, s, backend="fused").state_dict()
        assert list(a) == list(b)
        DartsEdge(4, s, backend="reference").load_state_dict(b)


def test_odd_stride2_refused():
    for backend in ("reference", "fused"):
        m = DartsEdge(4, 2, backend=backend)
        with pytest.raises(ValueError, match="even H and W"):
            m(torch.randn(2, 4, 7, 8), weights("soft").float())


@pytest.mark.parametrize("backend", ["reference", "fused"])
def test_bad_input(backend):
    m = DartsEdge(4, 1, backend=backend)
    w = weights("soft").float()
    with pytest.raises(ValueError, match="^x: expected 4 channels"):
        m(torch.randn(2, 3, 6, 6), w)
    with pytest.raises(ValueError, match="^x: expected a 4-D"):
        m(torch.randn(4, 6, 6), w)
    with pytest.raises(ValueError, match="^weights: expected shape"):
        m(torch.randn(2, 4, 6, 6), w[:7])
    with pytest.raises(ValueError, match="^weights: expected device"):
        m(torch.randn(2, 4, 6, 6), w.to("meta"))


def test_fused_dtype_refused():
    m = DartsEdge(4, 1).to(torch.float16)
    with pytest.raises(ValueError, match="^x: the fused DartsEdge supports"):
        m(torch.randn(2, 4, 6, 6, dtype=torch.float16), weights("soft").half())


def test_op_checks_value_errors():
    m = DartsEdge(4, 1)
    x = torch.randn(2, 4, 6, 6)
    with pytest.raises(ValueError, match="conv_weights: expected 12"):
        torch.ops.nasfast.darts_edge_forward(
            x,
            weights("soft").float(),
            m._conv_weights()[:5],
            x.new_empty(0),
            1,
            True,
            1e-5,
            255,
            True,
        )


def test_backward_saved_shape_checked():
    _, x, w, cw, _ = op_args(1, True)
    fwd = torch.ops.nasfast.darts_edge_forward
    out, stats, saved = fwd(x, w, cw, x.new_empty(0), 1, True, 1e-5, 255, True)
    args = (torch.ones_like(out), x.detach(), w.detach(), [c.detach() for c in cw], stats)
    with pytest.raises(ValueError, match="^saved: expected shape"):
        torch.ops.nasfast.darts_edge_backward(*args, saved[1:], 1, True, 255, True, True, True)
