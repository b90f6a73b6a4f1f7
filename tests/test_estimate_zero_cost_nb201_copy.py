"""A supernet candidate copied into a standalone NB201 network."""

import pytest
import torch

from nasfast.estimate.zero_cost.nb201_copy import network_from_supernet
from nasfast.nn import NB201Supernet
from nasfast.nn.nb201_network import NB201Network
from nasfast.tabular.nb201 import NB201Table


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # tiny ops: one thread avoids OpenMP barrier waits on a loaded machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


ARCHS = [(3, 3, 1, 0, 2, 4), (0, 0, 0, 0, 0, 0), (1, 2, 3, 4, 0, 1), (4, 4, 4, 4, 4, 4)]


@pytest.mark.parametrize("arch", ARCHS)
def test_from_supernet_runs_the_same_candidate(arch):
    torch.manual_seed(0)
    net = NB201Supernet(C=4, N=1).double()
    x = torch.randn(3, 3, 8, 8, dtype=torch.float64)
    plain = network_from_supernet(net, arch)
    torch.testing.assert_close(plain(x), net(x, arch, bn="batch"))
    net.eval()
    torch.testing.assert_close(network_from_supernet(net, arch)(x), net(x, arch))


@pytest.mark.parametrize("arch", ARCHS)
def test_params_equal_the_benchmark_table(arch):
    table = NB201Table.load()
    n = sum(p.numel() for p in NB201Network(arch).parameters())
    assert n == round(table.column("params_M_c10")[table.index_of(arch)] * 1e6)


def test_bad_arch_is_a_value_error():
    with pytest.raises(ValueError, match="arch: expected op codes in 0..4"):
        NB201Network((0, 0, 0, 0, 0, 7))
