"""A candidate of the NB201 supernet as a standalone network holding copies of its weights."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasfast.nn.darts_primitives import ReLUConvBN
from nasfast.nn.nb201_layers import ResBlock, SupernetCell
from nasfast.nn.nb201_network import NB201Network
from nasfast.nn.nb201_supernet import NB201Supernet
from nasfast.spaces.nb201 import CONV1, CONV3


def network_from_supernet(net: NB201Supernet, arch: Sequence[int] | torch.Tensor) -> NB201Network:
    """The candidate ``arch`` of ``net`` as an :class:`NB201Network` with copies of the
    supernet's weights and buffers for its ops (and the supernet's train/eval mode)."""
    plain = NB201Network(arch, net.C, net.N, net.num_classes, net.in_channels)
    plain.to(device=net.stem_conv.weight.device, dtype=net.stem_conv.weight.dtype)
    with torch.no_grad():
        plain.stem[0].weight.copy_(net.stem_conv.weight)
        plain.stem[1].load_state_dict(net.stem_bn.state_dict())
        for mine, theirs in zip(plain.layers, net.layers, strict=True):
            if isinstance(theirs, ResBlock):
                _copy_rcb(mine.conv_a, theirs.conv_a)
                _copy_rcb(mine.conv_b, theirs.conv_b)
                mine.shortcut[1].weight.copy_(theirs.shortcut.weight)
                continue
            assert isinstance(theirs, SupernetCell)
            for e, op in enumerate(plain.arch):
                if op in (CONV1, CONV3):
                    _copy_rcb(mine.edges[e], (theirs.conv1 if op == CONV1 else theirs.conv3)[e])
        plain.last[0].load_state_dict(net.last_bn.state_dict())
        plain.classifier.load_state_dict(net.classifier.state_dict())
    plain.train(net.training)
    return plain


def _copy_rcb(dst: nn.Module, src: ReLUConvBN) -> None:
    dst.conv.weight.copy_(src.conv.weight)
    dst.bn.load_state_dict(src.bn.state_dict())
