"""Zero-cost scores of DARTS genotypes and the proxy minibatch of real images."""

import numpy as np
import pytest
import torch

from nasfast.estimate.zero_cost import score
from nasfast.estimate.zero_cost.darts import darts_network, score_darts
from nasfast.estimate.zero_cost.data import proxy_batch


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


GENOTYPES = [
    {
        "normal": [["sep_conv_3x3", 0], ["skip_connect", 1], ["dil_conv_3x3", 0],
                   ["max_pool_3x3", 2], ["avg_pool_3x3", 1], ["sep_conv_3x3", 3],
                   ["skip_connect", 4], ["skip_connect", 0]],
        "reduce": [["max_pool_3x3", 0], ["skip_connect", 1], ["sep_conv_3x3", 2],
                   ["avg_pool_3x3", 0], ["skip_connect", 2], ["dil_conv_3x3", 1],
                   ["sep_conv_3x3", 0], ["skip_connect", 4]],
    },
    {
        "normal": [["skip_connect", 0], ["skip_connect", 1]] * 4,
        "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1]] * 4,
    },
]  # fmt: skip
KW = {"C": 4, "layers": 3, "num_classes": 5}


def test_proxies_score_darts_genotypes():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 3, 8, 8, generator=g), torch.randint(0, 5, (4,), generator=g)
    names = ["synflow", "snip", "fisher", "zen", "nwot", "params"]
    out = score_darts(GENOTYPES, (x, y), names, seed=1, **KW)
    for name, v in out.items():
        assert v.shape == (2,) and np.isfinite(v).all(), name
    net = darts_network(GENOTYPES[0], shape=(3, 8, 8), seed=1, **KW)
    assert out["snip"][0] == score(net, (x, y), "snip")
    assert out["params"][0] != out["params"][1]


def test_darts_bad_input():
    with pytest.raises(ValueError, match="genotypes: expected a non-empty sequence"):
        score_darts([], (3, 8, 8), "synflow")
    with pytest.raises(ValueError, match=r"genotypes\[0\]: expected a Genotype"):
        score_darts([3], (3, 8, 8), "synflow")


def test_proxy_batch_of_shipped_mnist():
    x, y = proxy_batch(n=6, seed=1)
    assert x.shape == (6, 3, 32, 32) and y.shape == (6,)
    assert torch.equal(x[:, 0], x[:, 2])  # grey replicated
    x2, y2 = proxy_batch(n=6, seed=1)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(proxy_batch(n=6, seed=2)[0], x)
    with pytest.raises(ValueError, match="n: expected an int >= 1"):
        proxy_batch(n=0)
    with pytest.raises(ValueError, match="dataset: expected one of"):
        proxy_batch("/no/such/path", n=2)
