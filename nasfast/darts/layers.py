"""Building blocks shared by the DARTS search network and the derived (evaluation) network."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from nasfast.nn.darts_primitives import FactorizedReduce, ReLUConvBN


def preprocess(C_in: int, C_out: int, reduction_prev: bool, affine: bool) -> nn.Module:
    """The 1x1 input adapter of a cell (FactorizedReduce when the input is twice as large)."""
    if reduction_prev:
        return FactorizedReduce(C_in, C_out, affine)
    return ReLUConvBN(C_in, C_out, 1, 1, 0, affine)


class Stem(nn.Module):
    """The network's stem, adapted to the data: ``in_channels`` from the images; inputs larger
    than 64 pixels are halved by stride-2 convolutions until at most 64; the image is zero-padded
    (bottom/right) so both sides divide by 4, which the two reduction cells need."""

    def __init__(self, in_channels: int, C_out: int, image_size: tuple[int, int]):
        super().__init__()
        H, W = image_size
        if H < 4 or W < 4:
            raise ValueError(f"image_size: expected at least 4x4 pixels, got {H}x{W}")
        n_down = 0
        while min(H, W) > 64:
            H, W = math.ceil(H / 2), math.ceil(W / 2)
            n_down += 1
        mult = 4 * 2**n_down
        H0, W0 = image_size
        self.pad = ((-W0) % mult, (-H0) % mult)
        layers: list[nn.Module] = []
        c = in_channels
        for _ in range(n_down):
            layers += [nn.Conv2d(c, C_out, 3, 2, 1, bias=False), nn.BatchNorm2d(C_out), nn.ReLU()]
            c = C_out
        layers += [nn.Conv2d(c, C_out, 3, padding=1, bias=False), nn.BatchNorm2d(C_out)]
        self.body = nn.Sequential(*layers)
        self.out_size = ((H0 + self.pad[1]) // 2**n_down, (W0 + self.pad[0]) // 2**n_down)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad != (0, 0):
            x = F.pad(x, (0, self.pad[0], 0, self.pad[1]))
        return self.body(x)


def reduction_layers(layers: int) -> tuple[int, ...]:
    """Indices of the reduction cells: at 1/3 and 2/3 of the depth (as DARTS)."""
    return tuple(sorted({layers // 3, 2 * layers // 3}))


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)
