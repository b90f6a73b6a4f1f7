"""The layers of the NAS-Bench-201 network (Dong & Yang, ICLR 2020): ReLU-Conv-BN, the cell of six
edges, the residual reduction block, and BatchNorm in the three modes the supernet runs.

Shared by the one-candidate path (``nb201_supernet``) and the batched path (``nb201_batched``);
the cell's ops and edges are those of ``nasfast.spaces.nb201``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nasfast.nn.darts_primitives import ReLUConvBN
from nasfast.spaces.nb201 import CONV1, CONV3, EDGES, N_EDGES, NONE, SKIP

BN_MODES = ("running", "batch", "train")


def batch_norm(y: torch.Tensor, bn: nn.BatchNorm2d, mode: str) -> torch.Tensor:
    """BatchNorm of one candidate's ``[B, C, H, W]`` activations in ``mode``."""
    if mode == "running":
        return F.batch_norm(
            y, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps
        )
    if mode == "batch":
        return F.batch_norm(y, None, None, bn.weight, bn.bias, True, 0.0, bn.eps)
    return F.batch_norm(
        y, bn.running_mean, bn.running_var, bn.weight, bn.bias, True, bn.momentum, bn.eps
    )


def relu_conv_bn(m: ReLUConvBN, x: torch.Tensor, bn: str) -> torch.Tensor:
    """``m`` on one candidate's activations, its BatchNorm in mode ``bn``."""
    return batch_norm(m.conv(F.relu(x)), m.bn, bn)


def folded(m: ReLUConvBN) -> tuple[torch.Tensor, torch.Tensor]:
    """Conv weight and bias of ``m`` with the BN's running statistics folded in (eval mode)."""
    bn = m.bn
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    w = m.conv.weight * scale.view(-1, 1, 1, 1)
    return w, bn.bias - bn.running_mean * scale


def avg_pool(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class SupernetCell(nn.Module):
    """Six edges; each holds a 1x1 and a 3x3 ReLU-Conv-BN (skip, pool and none have no weights)."""

    def __init__(self, C: int):
        super().__init__()
        self.C = C
        self.conv1 = nn.ModuleList(ReLUConvBN(C, C, 1, 1, 0) for _ in range(N_EDGES))
        self.conv3 = nn.ModuleList(ReLUConvBN(C, C, 3, 1, 1) for _ in range(N_EDGES))

    def edge(self, e: int, op: int, x: torch.Tensor, bn: str) -> torch.Tensor:
        if op == NONE:
            return x.mul(0.0)
        if op == SKIP:
            return x
        if op == CONV1:
            return relu_conv_bn(self.conv1[e], x, bn)
        if op == CONV3:
            return relu_conv_bn(self.conv3[e], x, bn)
        return avg_pool(x)

    def forward(self, x: torch.Tensor, arch: Sequence[int], bn: str) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            nodes.append(
                sum(self.edge(e, arch[e], nodes[s], bn) for e, (d, s) in enumerate(EDGES) if d == j)
            )
        return nodes[3]


class ResBlock(nn.Module):
    """NAS-Bench-201's reduction block: ReLUConvBN 3x3 s2 -> ReLUConvBN 3x3, plus an
    AvgPool2d(2, 2) + Conv1x1 shortcut, summed."""

    def __init__(self, C_in: int, C_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(C_in, C_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1)
        self.shortcut = nn.Conv2d(C_in, C_out, 1, 1, 0, bias=False)

    def forward(self, x: torch.Tensor, bn: str) -> torch.Tensor:
        y = relu_conv_bn(self.conv_b, relu_conv_bn(self.conv_a, x, bn), bn)
        return y + self.shortcut(F.avg_pool2d(x, 2, 2))
