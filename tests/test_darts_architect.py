"""The architect's alpha gradients against finite differences on a tiny float64 network."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from darts_helpers import BACKENDS

from nasfast.darts.architect import Architect
from nasfast.darts.network import SearchNetwork


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: threads only add contention on a busy machine
    yield
    torch.set_num_threads(n)


def _tiny(seed: int = 0, backend: str = "reference", **kw):
    torch.manual_seed(seed)
    net = SearchNetwork(2, 3, 3, in_channels=1, image_size=(4, 4), backend=backend, **kw)
    net = net.double()
    with torch.no_grad():  # alphas away from uniform so the op choice matters
        for a in net.arch_parameters():
            a.normal_(0, 0.5)
    g = torch.Generator().manual_seed(seed)
    xs = [torch.randn(6, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(2)]
    ys = [torch.randint(0, 3, (6,), generator=g) for _ in range(2)]
    return net, xs[0], ys[0], xs[1], ys[1]


def _sgd_with_momentum(net, x, y):
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1, momentum=0.9, weight_decay=3e-4)
    F.cross_entropy(net(x), y).backward()
    opt.step()  # fills the momentum buffers the virtual step uses
    opt.zero_grad(set_to_none=True)
    for a in net.arch_parameters():
        a.grad = None
    return opt


def _unrolled_val_loss(net, opt, x, y, xv, yv, eta, alphas):
    """L_val(w - eta * (momentum * buf + grad_w L_train(w, a) + wd * w), a), evaluated exactly."""
    saved_a = [a.detach().clone() for a in net.arch_parameters()]
    saved_w = [p.detach().clone() for p in net.weight_parameters()]
    saved_b = [b.detach().clone() for b in net.buffers()]
    group = opt.param_groups[0]
    try:
        with torch.no_grad():
            for a, v in zip(net.arch_parameters(), alphas, strict=True):
                a.copy_(v)
        g = torch.autograd.grad(F.cross_entropy(net(x), y), net.weight_parameters())
        with torch.no_grad():
            for p, gi in zip(net.weight_parameters(), g, strict=True):
                buf = opt.state[p]["momentum_buffer"]
                p.sub_(eta * (group["momentum"] * buf + gi + group["weight_decay"] * p))
            return float(F.cross_entropy(net(xv), yv))
    finally:
        with torch.no_grad():
            for a, v in zip(net.arch_parameters(), saved_a, strict=True):
                a.copy_(v)
            for p, v in zip(net.weight_parameters(), saved_w, strict=True):
                p.copy_(v)
            for b, v in zip(net.buffers(), saved_b, strict=True):
                b.copy_(v)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("partial", [1, 2])
def test_second_order_gradient_matches_finite_differences(partial, backend):
    net, x, y, xv, yv = _tiny(partial_channels=partial, backend=backend)
    opt = _sgd_with_momentum(net, x, y)
    eta = 0.5
    # float64: a small finite-difference step makes the Hessian-vector product exact to ~1e-9,
    # so the comparison checks the second-order formula itself (the default r = 0.01/||v|| adds
    # an O(r^2) approximation error that depends on the network's curvature).
    arch = Architect(net, opt, order="second", hvp_eps=1e-5)
    grads, _, _ = arch.arch_gradient(x, y, xv, yv, eta)
    first = Architect(net, opt, order="first").arch_gradient(x, y, xv, yv, eta)[0]
    base = [a.detach().clone() for a in net.arch_parameters()]
    gen = torch.Generator().manual_seed(1)
    dirs = [torch.randn(a.shape, generator=gen, dtype=torch.float64) for a in base]
    h = 1e-5
    plus = _unrolled_val_loss(
        net, opt, x, y, xv, yv, eta, [a + h * d for a, d in zip(base, dirs, strict=True)]
    )
    minus = _unrolled_val_loss(
        net, opt, x, y, xv, yv, eta, [a - h * d for a, d in zip(base, dirs, strict=True)]
    )
    numeric = (plus - minus) / (2 * h)
    analytic = sum(float((g * d).sum()) for g, d in zip(grads, dirs, strict=True))
    first_order = sum(float((g * d).sum()) for g, d in zip(first, dirs, strict=True))
    err = abs(analytic - numeric)
    assert err <= 1e-5 * abs(numeric) + 1e-8, (analytic, numeric)
    # the test can tell the orders apart: the first-order gradient misses the Hessian term
    assert abs(first_order - numeric) > 10 * err
    # the architect leaves the weights, alphas and buffers as it found them
    assert all(torch.equal(a, b) for a, b in zip(net.arch_parameters(), base, strict=True))


def test_first_order_gradient_is_the_validation_gradient():
    net, x, y, xv, yv = _tiny(seed=1)
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1)
    grads, loss, _ = Architect(net, opt, order="first").arch_gradient(x, y, xv, yv, 0.1)
    expect = torch.autograd.grad(F.cross_entropy(net(xv), yv), net.arch_parameters())
    for g, e in zip(grads, expect, strict=True):
        torch.testing.assert_close(g, e)


def test_second_order_restores_weights_exactly():
    net, x, y, xv, yv = _tiny(seed=2)
    opt = _sgd_with_momentum(net, x, y)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    Architect(net, opt, order="second").step(x, y, xv, yv, 0.1)
    after = net.state_dict()
    for k, v in before.items():
        if "alphas" in k:
            assert not torch.equal(v, after[k]), k  # the Adam step moved the alphas
        else:
            assert torch.equal(v, after[k]), k


def test_bad_order_is_a_one_line_error():
    net, *_ = _tiny()
    with pytest.raises(ValueError, match="^order: "):
        Architect(net, torch.optim.SGD(net.weight_parameters(), lr=0.1), order="third")
