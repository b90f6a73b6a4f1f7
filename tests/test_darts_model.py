"""The network a genotype describes: shapes, drop-path, auxiliary head."""

from __future__ import annotations

import torch
from darts_helpers import one_thread  # noqa: F401  (autouse: one torch thread)

from nasfast.darts.genotype import Genotype
from nasfast.darts.model import GenotypeNetwork


def test_genotype_network_shapes_drop_path_and_auxiliary():
    g = Genotype.from_dict({
        "normal": [["sep_conv_3x3", 0], ["skip_connect", 1], ["dil_conv_3x3", 0],
                   ["max_pool_3x3", 2], ["avg_pool_3x3", 1], ["sep_conv_5x5", 3],
                   ["dil_conv_5x5", 4], ["skip_connect", 0]],
        "reduce": [["max_pool_3x3", 0], ["skip_connect", 1], ["sep_conv_3x3", 2],
                   ["avg_pool_3x3", 0], ["skip_connect", 2], ["dil_conv_3x3", 1],
                   ["sep_conv_5x5", 0], ["skip_connect", 4]],
    })  # fmt: skip
    net = GenotypeNetwork(g, 4, 7, 4, in_channels=3, image_size=(12, 12), auxiliary=True)
    net.drop_path_prob = 0.3
    net.train()
    logits, aux = net(torch.randn(3, 3, 12, 12))
    assert logits.shape == aux.shape == (3, 7)
    net.eval()
    assert net(torch.randn(3, 3, 12, 12)).shape == (3, 7)
    assert not any("alphas" in n for n, _ in net.named_parameters())
