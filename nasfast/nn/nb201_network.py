"""One NAS-Bench-201 candidate as a standalone ``nn.Module`` (only its own weights).

The skeleton of the NAS-Bench-201 network (Dong & Yang, ICLR 2020) with every cell running the
same 6 op codes: 3x3 stem conv + BN; N cells at C; residual block C->2C; N cells at 2C; residual
block 2C->4C; N cells at 4C; BN, ReLU, global average pool, linear classifier. Each node sums its
incoming edges; ``none`` edges are zeros of the input's shape (as in the supernet), so the
network's work and memory are those of the cell as written.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nasfast.nn.darts_primitives import ReLUConvBN
from nasfast.nn.nb201_supernet import check_archs
from nasfast.spaces.nb201 import EDGES, NONE, OPS, POOL, SKIP


class Zeros(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def edge_op(code: int, C: int) -> nn.Module:
    """The module of op ``code`` on a C-channel stride-1 edge."""
    if code == NONE:
        return Zeros()
    if code == SKIP:
        return nn.Identity()
    if code == POOL:
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    kernel = 1 if OPS[code] == "nor_conv_1x1" else 3
    return ReLUConvBN(C, C, kernel, 1, kernel // 2)


class NB201Cell(nn.Module):
    def __init__(self, arch: Sequence[int], C: int):
        super().__init__()
        self.edges = nn.ModuleList(edge_op(int(code), C) for code in arch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            total = None
            for e, (d, s) in enumerate(EDGES):
                if d == j:
                    y = self.edges[e](nodes[s])
                    total = y if total is None else total + y
            nodes.append(total)
        return nodes[3]


class NB201ResBlock(nn.Module):
    def __init__(self, C_in: int, C_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(C_in, C_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(2, 2), nn.Conv2d(C_in, C_out, 1, 1, 0, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.shortcut(x)


class NB201Network(nn.Module):
    """The NAS-Bench-201 network of one cell ``arch`` (6 op codes)."""

    def __init__(
        self,
        arch: Sequence[int],
        C: int = 16,
        N: int = 5,
        num_classes: int = 10,
        in_channels: int = 3,
    ):
        super().__init__()
        for name, v in (("C", C), ("N", N), ("num_classes", num_classes)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
        self.arch = tuple(check_archs(arch, "arch", single=True).tolist())
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, 1, 1, bias=False), nn.BatchNorm2d(C))
        layers: list[nn.Module] = []
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage:
                layers.append(NB201ResBlock(c // 2, c))
            layers.extend(NB201Cell(self.arch, c) for _ in range(N))
        self.layers = nn.Sequential(*layers)
        self.last = nn.Sequential(nn.BatchNorm2d(4 * C), nn.ReLU(inplace=False))
        self.classifier = nn.Linear(4 * C, num_classes)

    def forward_before_global_avg_pool(self, x: torch.Tensor) -> torch.Tensor:
        """The features the global pooling averages (zero-cost proxies such as zen read them)."""
        return self.last(self.layers(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.forward_before_global_avg_pool(x)
        return self.classifier(F.adaptive_avg_pool2d(h, 1).flatten(1))
