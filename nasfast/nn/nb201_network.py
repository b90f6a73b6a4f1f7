"""One NAS-Bench-201 architecture as a plain network (Dong & Yang, ICLR 2020).

The same skeleton as :class:`nasfast.nn.nb201_supernet.NB201Supernet` (stem, 3 stages of N
cells with residual reduction blocks between them, BatchNorm + ReLU, global average pooling,
linear classifier) with only the ops of one architecture in its cells, each an ordinary module
(``nn.ReLU`` / ``nn.Conv2d`` / ``nn.BatchNorm2d``), as the benchmark's own ``InferCell``
networks hold them. :meth:`NB201Network.from_supernet` copies a supernet's weights for those ops,
so a candidate of the supernet can be run (and differentiated) as a standalone module.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasfast.nn.nb201_supernet import (
    CONV1,
    CONV3,
    EDGES,
    NONE,
    POOL,
    NB201Supernet,
    ReLUConvBN,
    ResBlock,
    SupernetCell,
    check_archs,
)


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def relu_conv_bn(C_in: int, C_out: int, kernel: int, stride: int, padding: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(C_in, C_out, kernel, stride, padding, bias=False),
        nn.BatchNorm2d(C_out),
    )


def edge_op(op: int, C: int) -> nn.Module:
    if op == NONE:
        return Zero()
    if op == CONV1:
        return relu_conv_bn(C, C, 1, 1, 0)
    if op == CONV3:
        return relu_conv_bn(C, C, 3, 1, 1)
    if op == POOL:
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    return nn.Identity()


class Cell(nn.Module):
    def __init__(self, arch: Sequence[int], C: int):
        super().__init__()
        self.edges = nn.ModuleList(edge_op(op, C) for op in arch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            nodes.append(sum(self.edges[e](nodes[s]) for e, (d, s) in enumerate(EDGES) if d == j))
        return nodes[3]


class ResidualBlock(nn.Module):
    def __init__(self, C_in: int, C_out: int):
        super().__init__()
        self.conv_a = relu_conv_bn(C_in, C_out, 3, 2, 1)
        self.conv_b = relu_conv_bn(C_out, C_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(2, 2), nn.Conv2d(C_in, C_out, 1, 1, 0, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.downsample(x)


class NB201Network(nn.Module):
    """The network of one architecture (``arch``: 6 op codes, see ``nasfast.spaces.nb201``)."""

    def __init__(
        self,
        arch: Sequence[int] | torch.Tensor,
        C: int = 16,
        N: int = 5,
        num_classes: int = 10,
        in_channels: int = 3,
    ):
        super().__init__()
        codes = check_archs(arch, "arch", single=True).tolist()
        self.arch = tuple(codes)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, 1, 1, bias=False), nn.BatchNorm2d(C))
        layers: list[nn.Module] = []
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage:
                layers.append(ResidualBlock(c // 2, c))
            layers.extend(Cell(codes, c) for _ in range(N))
        self.layers = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * C), nn.ReLU())
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * C, num_classes)

    def forward_before_global_avg_pool(self, x: torch.Tensor) -> torch.Tensor:
        return self.lastact(self.layers(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(
            self.global_pooling(self.forward_before_global_avg_pool(x)).flatten(1)
        )

    @classmethod
    def from_supernet(cls, net: NB201Supernet, arch: Sequence[int] | torch.Tensor) -> NB201Network:
        """The candidate ``arch`` of ``net`` with copies of the supernet's weights and buffers."""
        plain = cls(arch, net.C, net.N, net.num_classes, net.in_channels)
        plain.to(device=net.stem_conv.weight.device, dtype=net.stem_conv.weight.dtype)
        with torch.no_grad():
            _copy_conv_bn(plain.stem, net.stem_conv, net.stem_bn)
            for mine, theirs in zip(plain.layers, net.layers, strict=True):
                if isinstance(theirs, ResBlock):
                    _copy_rcb(mine.conv_a, theirs.conv_a)
                    _copy_rcb(mine.conv_b, theirs.conv_b)
                    mine.downsample[1].weight.copy_(theirs.shortcut.weight)
                    continue
                assert isinstance(theirs, SupernetCell)
                for e, op in enumerate(plain.arch):
                    if op in (CONV1, CONV3):
                        src = theirs.conv1[e] if op == CONV1 else theirs.conv3[e]
                        _copy_rcb(mine.edges[e], src)
            plain.lastact[0].load_state_dict(net.last_bn.state_dict())
            plain.classifier.load_state_dict(net.classifier.state_dict())
        plain.train(net.training)
        return plain


def _copy_conv_bn(seq: nn.Sequential, conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    seq[0].weight.copy_(conv.weight)
    seq[1].load_state_dict(bn.state_dict())


def _copy_rcb(seq: nn.Sequential, src: ReLUConvBN) -> None:
    seq[1].weight.copy_(src.conv.weight)
    seq[2].load_state_dict(src.bn.state_dict())
