"""The DARTS and NAS-Bench-201 cell spaces written with the model-space API give the same
networks as nasfast's built-in ones (same outputs for the same weights)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasfast.darts.network import SearchNetwork
from nasfast.nn import PRIMITIVES, DartsEdge, NB201Supernet
from nasfast.oneshot.darts_cell_space import DartsCellNetwork, load_search_network
from nasfast.oneshot.model_supernet import ModelSupernet
from nasfast.oneshot.nb201_cell_space import NB201Network, arch_of_ops, load_nb201_supernet
from nasfast.spaces.model import ModelSpace


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _randomise_batchnorm(net: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                    m.bias.copy_(torch.rand(m.bias.shape, generator=g) - 0.5)


# ----------------------------------------------------------------------------- NAS-Bench-201


@pytest.fixture(scope="module")
def nb201():
    torch.manual_seed(0)
    builtin = NB201Supernet(C=4, N=1, num_classes=5)
    _randomise_batchnorm(builtin, 0)
    space = ModelSpace(NB201Network, 4, 1, 5)
    supernet = ModelSupernet(space)
    load_nb201_supernet(supernet.model, builtin)
    return builtin, space, supernet


def test_nb201_space_has_six_shared_edge_choices(nb201):
    _, space, _ = nb201
    assert space.labels == [f"e{e}" for e in range(6)]
    assert space.size == 5**6


def test_nb201_frozen_architectures_equal_the_builtin_supernet_paths(nb201):
    builtin, space, supernet = nb201
    builtin.eval()
    x = torch.randn(3, 3, 8, 8)
    rng = np.random.default_rng(0)
    for ops in [(3, 1, 2, 4, 0, 3), *rng.integers(0, 5, (4, 6)).tolist()]:
        frozen = supernet.freeze(arch_of_ops(ops)).eval()
        torch.testing.assert_close(frozen(x), builtin(x, ops), rtol=1e-5, atol=1e-6)
        supernet.eval()
        with supernet.path(arch_of_ops(ops)):
            torch.testing.assert_close(supernet(x), builtin(x, ops), rtol=1e-5, atol=1e-6)


def test_nb201_darts_mixture_equals_the_builtin_relaxation(nb201):
    builtin, _, supernet = nb201
    builtin.eval()
    supernet.eval()
    alpha = torch.randn(6, 5, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for e in range(6):
            supernet.alphas[f"e{e}"].copy_(alpha[e])
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(supernet(x), builtin.forward_mixed(x, alpha), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- DARTS


@pytest.fixture(scope="module")
def darts_built():
    torch.manual_seed(0)
    builtin = SearchNetwork(4, 5, 3, in_channels=1, image_size=(8, 8))
    _randomise_batchnorm(builtin, 1)
    space = ModelSpace(DartsCellNetwork, 4, 5, 3, in_channels=1, image_size=(8, 8))
    supernet = ModelSupernet(space)
    load_search_network(supernet, builtin)
    return builtin, space, supernet


@pytest.fixture
def darts_pair(darts_built):
    """(built-in network, space, model-space supernet), the supernet holding the built-in's
    weights, statistics and alphas (tests may change the built-in's; both run fused)."""
    builtin, space, supernet = darts_built
    _use_backend(builtin, supernet, "fused")
    load_search_network(supernet, builtin)
    builtin.zero_grad(set_to_none=True)
    supernet.zero_grad(set_to_none=True)
    return builtin, space, supernet


def _use_backend(builtin: SearchNetwork, supernet: ModelSupernet, backend: str) -> None:
    for m in builtin.modules():
        if isinstance(m, DartsEdge):
            m.backend = backend
    supernet.backend = backend
    for m in supernet.model.modules():
        edge = m.__dict__.get("_darts_edge")
        if edge is not None:
            edge.backend = backend


def test_darts_space_labels_and_fused_edges(darts_pair):
    _, space, supernet = darts_pair
    assert space.labels == [f"normal_e{e}" for e in range(14)] + [f"reduce_e{e}" for e in range(14)]
    assert all(space.specs[k].values == PRIMITIVES for k in space.labels)
    assert supernet.fused_edges() == 3 * 14  # every edge of every cell runs as a DartsEdge


@pytest.mark.parametrize("backend", ["fused", "reference"])
def test_darts_supernet_equals_the_builtin_search_network(darts_pair, backend):
    builtin, _, supernet = darts_pair
    _use_backend(builtin, supernet, backend)
    x = torch.randn(4, 1, 8, 8)
    for train in (True, False):
        builtin.train(train)
        supernet.train(train)
        out_b, out_s = builtin(x), supernet(x)
        torch.testing.assert_close(out_s, out_b, rtol=1e-5, atol=1e-6)
    if backend == "reference":
        return
    # the same alpha gradients (train mode)
    builtin.train()
    supernet.train()
    builtin(x).square().sum().backward()
    supernet(x).square().sum().backward()
    for kind, grad in (
        ("normal", builtin.alphas_normal.grad),
        ("reduce", builtin.alphas_reduce.grad),
    ):
        for e in range(14):
            torch.testing.assert_close(
                supernet.alphas[f"{kind}_e{e}"].grad, grad[e], rtol=1e-4, atol=1e-6
            )


def test_darts_frozen_architecture_equals_the_builtin_network_at_one_hot_weights(darts_pair):
    builtin, space, supernet = darts_pair
    builtin.eval()
    arch = space.sample(np.random.default_rng(3))
    with torch.no_grad():  # softmax of these logits is exactly one-hot in float32
        for kind, alphas in (("normal", builtin.alphas_normal), ("reduce", builtin.alphas_reduce)):
            alphas.zero_()
            for e in range(14):
                alphas[e, PRIMITIVES.index(arch[f"{kind}_e{e}"])] = 1e4
    frozen = supernet.freeze(arch).eval()
    assert not any(type(m).__name__ == "LayerChoice" for m in frozen.modules())
    x = torch.randn(3, 1, 8, 8)
    torch.testing.assert_close(frozen(x), builtin(x), rtol=1e-5, atol=1e-5)


def test_darts_genotype_of_the_model_space_equals_the_builtin_derivation(darts_pair):
    from nasfast.darts.genotype import derive_genotype
    from nasfast.oneshot.darts_cell_space import darts_genotype

    builtin, _, supernet = darts_pair
    with torch.no_grad():
        builtin.alphas_normal.normal_(generator=torch.Generator().manual_seed(5))
        builtin.alphas_reduce.normal_(generator=torch.Generator().manual_seed(6))
    load_search_network(supernet, builtin)
    want = derive_genotype(
        builtin.alphas_normal.detach().double().numpy(),
        builtin.alphas_reduce.detach().double().numpy(),
    )
    got = darts_genotype(supernet)
    assert got.normal == want.normal and got.reduce == want.reduce


def test_darts_layer_choices_give_the_same_outputs_through_mixed_op(darts_pair):
    builtin, space, fused = darts_pair
    plain = ModelSupernet(space, fuse_darts_edges=False)
    assert plain.fused_edges() == 0
    load_search_network(plain, builtin)
    x = torch.randn(4, 1, 8, 8)
    for train in (True, False):
        fused.train(train)
        plain.train(train)
        torch.testing.assert_close(plain(x), fused(x), rtol=1e-5, atol=1e-5)
