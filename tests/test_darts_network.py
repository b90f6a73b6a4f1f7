"""The DARTS search network: skip dropout, the stem, channels-last equal to NCHW."""

from __future__ import annotations

import torch
from darts_helpers import one_thread  # noqa: F401  (autouse: one torch thread)

from nasfast.darts.network import SKIP, SearchNetwork


def test_skip_dropout_changes_only_the_skip_path():
    torch.manual_seed(0)
    net = SearchNetwork(2, 3, 3, in_channels=1, image_size=(8, 8), backend="reference")
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        net.alphas_normal[:, SKIP] = -1e9  # no skip weight: dropout must change nothing
        net.alphas_reduce[:, SKIP] = -1e9
    net.train()
    torch.manual_seed(1)
    a = net(x)
    net.skip_drop = 0.9
    torch.manual_seed(1)
    b = net(x)
    torch.testing.assert_close(a, b)
    with torch.no_grad():
        net.alphas_normal[:, SKIP] = 5.0
    c = net(x)
    net.skip_drop = 0.0
    assert not torch.allclose(c, net(x))


def test_stem_adapts_to_channels_and_image_size():
    for shape in [(3, 32, 32), (1, 28, 28), (2, 30, 22), (3, 96, 80)]:
        net = SearchNetwork(
            2, 5, 3, in_channels=shape[0], image_size=shape[1:], backend="reference"
        )
        out = net(torch.randn(2, *shape))
        assert out.shape == (2, 5)
    assert (
        SearchNetwork(
            2, 5, 3, in_channels=3, image_size=(96, 80), backend="reference"
        ).stem.out_size[0]
        <= 64
    )


def test_channels_last_network_matches_nchw():
    # the same weights and input computed channels-last: the same outputs and gradients up to
    # rounding, and every fused edge gets a channels-last input (its kernels' layout: no layout
    # change inside the edge)
    from nasfast.nn import DartsEdge

    torch.manual_seed(0)
    a = SearchNetwork(16, 5, 3, in_channels=3, image_size=(8, 8)).double()
    b = SearchNetwork(16, 5, 3, in_channels=3, image_size=(8, 8), channels_last=True).double()
    b.load_state_dict(a.state_dict())
    assert not b.stem.body[0].weight.is_contiguous()  # [48, 3, 3, 3], channels-last
    seen: list[bool] = []
    for m in b.modules():
        if isinstance(m, DartsEdge):
            m.register_forward_pre_hook(
                lambda _m, args: seen.append(
                    args[0].is_contiguous(memory_format=torch.channels_last)
                )
            )
    x = torch.randn(4, 3, 8, 8, dtype=torch.float64)
    ya, yb = a(x), b(x)
    torch.testing.assert_close(yb, ya)
    ya.square().sum().backward()
    yb.square().sum().backward()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad)
    assert len(seen) == 3 * 14 and all(seen)
