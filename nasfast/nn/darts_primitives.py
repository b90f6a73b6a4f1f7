"""The eight DARTS primitives as plain PyTorch modules, in their search and evaluation variants.

These follow the DARTS search space (Liu, Simonyan, Yang, "DARTS: Differentiable Architecture
Search", ICLR 2019; reference code quark0/darts): ReLU-Conv-BN stacks, BatchNorm without affine
parameters in the search cell, pools followed by BatchNorm, ``none`` as zeros; the derived
(evaluation) network has affine BatchNorm and bare pools. The search variant is the reference
twin of nasfast's fused DARTS edge and defines the parameter layout both backends share.
:class:`ReLUConvBN` is the one ReLU-Conv-BN of nasfast: DARTS cells, the NB201 supernet.
"""

from __future__ import annotations

import torch
from torch import nn

PRIMITIVES: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)


class ReLUConvBN(nn.Module):
    """ReLU -> Conv (no bias) -> BatchNorm; ``conv`` and ``bn`` name the two layers."""

    def __init__(
        self, C_in: int, C_out: int, k: int, stride: int, padding: int, affine: bool = True
    ):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, k, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )

    @property
    def conv(self) -> nn.Conv2d:
        return self.op[1]

    @property
    def bn(self) -> nn.BatchNorm2d:
        return self.op[2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # state dicts that name the two layers conv.* and bn.* load as well
        for old, new in (("conv.", "op.1."), ("bn.", "op.2.")):
            for key in [k for k in state_dict if k.startswith(prefix + old)]:
                state_dict[prefix + new + key[len(prefix + old) :]] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class Zero(nn.Module):
    """``none``: zeros of the output shape (strided subsampling at stride 2)."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 stride-2 convs on x and on x shifted by one pixel, concatenated, BN."""

    def __init__(self, C_in: int, C_out: int, affine: bool = True):
        super().__init__()
        if C_out % 2:
            raise ValueError(f"C_out: FactorizedReduce needs an even channel count, got {C_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


class SepConv(nn.Module):
    """Twice [ReLU, depthwise kxk, pointwise 1x1, BN]; only the first depthwise conv is strided."""

    def __init__(
        self, C_in: int, C_out: int, k: int, stride: int, padding: int, affine: bool = True
    ):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, k, stride, padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_in, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, k, 1, padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """ReLU, depthwise kxk with dilation, pointwise 1x1, BN."""

    def __init__(
        self,
        C_in: int,
        C_out: int,
        k: int,
        stride: int,
        padding: int,
        dilation: int,
        affine: bool = True,
    ):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, k, stride, padding, dilation=dilation, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


def make_primitive(name: str, C: int, stride: int, *, search: bool = True) -> nn.Module:
    """One DARTS primitive on ``C`` channels. ``search=True``: the search cell's (BatchNorm
    affine=False, pools followed by BatchNorm(affine=False), ``none`` = zeros); ``search=False``:
    the derived network's (affine BatchNorm, bare pools; ``none`` is no op of a derived cell)."""
    affine = not search
    if name == "none" and search:
        return Zero(stride)
    if name == "max_pool_3x3":
        pool: nn.Module = nn.MaxPool2d(3, stride=stride, padding=1)
        return nn.Sequential(pool, nn.BatchNorm2d(C, affine=False)) if search else pool
    if name == "avg_pool_3x3":
        pool = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
        return nn.Sequential(pool, nn.BatchNorm2d(C, affine=False)) if search else pool
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(C, C, affine)
    if name == "sep_conv_3x3":
        return SepConv(C, C, 3, stride, 1, affine)
    if name == "sep_conv_5x5":
        return SepConv(C, C, 5, stride, 2, affine)
    if name == "dil_conv_3x3":
        return DilConv(C, C, 3, stride, 2, 2, affine)
    if name == "dil_conv_5x5":
        return DilConv(C, C, 5, stride, 4, 2, affine)
    ops = PRIMITIVES if search else PRIMITIVES[1:]
    raise ValueError(f"name: expected one of {', '.join(ops)}, got {name!r}")
