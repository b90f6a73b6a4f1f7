"""Supernet training (resume equals an uninterrupted run), DARTS alphas as an initial population."""

import pytest
import torch
from oneshot_helpers import tiny_images as _data
from oneshot_helpers import tiny_supernet as _net

from nasfast import oneshot as hybrid


def test_train_supernet_resume_equals_uninterrupted(tmp_path):
    x, y = _data()
    a = _net()
    la = hybrid.train_supernet(a, x, y, steps=4, batch_size=8, paths=3, seed=1)
    b = _net()
    ck = str(tmp_path / "ck.pt")
    hybrid.train_supernet(
        b,
        x,
        y,
        steps=4,
        batch_size=8,
        paths=3,
        seed=1,
        checkpoint=ck,
        checkpoint_every=1,
        stop_after=2,
    )
    c = _net(seed=5)  # a fresh process: different init, state comes from the checkpoint
    lc = hybrid.train_supernet(c, x, y, steps=4, batch_size=8, paths=3, seed=1, checkpoint=ck)
    assert la == lc and len(la) == 4
    for k, v in a.state_dict().items():
        torch.testing.assert_close(c.state_dict()[k], v, rtol=0, atol=0)


def test_train_supernet_bad_arguments():
    x, y = _data()
    with pytest.raises(ValueError, match="^paths:"):
        hybrid.train_supernet(_net(), x, y, steps=2, paths=0)
    with pytest.raises(ValueError, match="^y:"):
        hybrid.train_supernet(_net(), x, y[:3], steps=2)


def test_seeds_from_alphas_starts_with_argmax():
    alpha = torch.zeros(6, 5)
    alpha[:, 2] = 3.0
    s = hybrid.seeds_from_alphas(alpha, 5, seed=0)
    assert s[0] == (2,) * 6 and len(set(s)) == len(s) == 5
