"""The NAS-Bench-201 cell space written with the model-space API.

The same network as :class:`nasfast.nn.NB201Supernet` (Dong & Yang, ICLR 2020): a 3x3 stem, N
cells at C, a residual reduction block, N cells at 2C, another, N cells at 4C, BatchNorm, ReLU,
global pooling and a linear classifier. Each cell's six edges are layer choices over the five
NAS-Bench-201 ops, labelled ``e0``..``e5`` in the official edge order and shared by every cell
(all cells of a NAS-Bench-201 architecture are the same). :func:`load_nb201_supernet` copies the
built-in supernet's weights in, so both give the same outputs.
"""

from __future__ import annotations

import torch
from torch import nn

from nasfast.nn.darts_primitives import Zero
from nasfast.nn.nb201_supernet import EDGES, NB201Supernet
from nasfast.spaces.model.choices import LayerChoice
from nasfast.spaces.nb201 import OPS


def relu_conv_bn(C_in: int, C_out: int, kernel: int, stride: int, padding: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(C_in, C_out, kernel, stride, padding, bias=False),
        nn.BatchNorm2d(C_out),
    )


def nb201_ops(C: int) -> dict[str, nn.Module]:
    """The five NAS-Bench-201 candidates of one edge, by their official names."""
    return {
        "none": Zero(1),
        "skip_connect": nn.Identity(),
        "nor_conv_1x1": relu_conv_bn(C, C, 1, 1, 0),
        "nor_conv_3x3": relu_conv_bn(C, C, 3, 1, 1),
        "avg_pool_3x3": nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
    }


class NB201Cell(nn.Module):
    def __init__(self, C: int):
        super().__init__()
        self.edges = nn.ModuleList(LayerChoice(nb201_ops(C), label=f"e{e}") for e in range(6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            ins = [self.edges[e](nodes[s]) for e, (d, s) in enumerate(EDGES) if d == j]
            total = ins[0]
            for t in ins[1:]:
                total = total + t
            nodes.append(total)
        return nodes[3]


class NB201ResBlock(nn.Module):
    def __init__(self, C_in: int, C_out: int):
        super().__init__()
        self.conv_a = relu_conv_bn(C_in, C_out, 3, 2, 1)
        self.conv_b = relu_conv_bn(C_out, C_out, 3, 1, 1)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(C_in, C_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.shortcut(x)


class NB201Network(nn.Module):
    """The NAS-Bench-201 space as a model space (``ModelSpace(NB201Network, C, N, classes)``)."""

    def __init__(self, C: int = 16, N: int = 5, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, 1, 1, bias=False), nn.BatchNorm2d(C))
        layers: list[nn.Module] = []
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage:
                layers.append(NB201ResBlock(c // 2, c))
            layers.extend(NB201Cell(c) for _ in range(N))
        self.layers = nn.ModuleList(layers)
        self.last_bn = nn.BatchNorm2d(4 * C)
        self.classifier = nn.Linear(4 * C, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        for layer in self.layers:
            h = layer(h)
        return self.classifier(torch.relu(self.last_bn(h)).mean(dim=(2, 3)))


def arch_of_ops(ops) -> dict[str, str]:
    """The model-space architecture of NAS-Bench-201 op codes (6 ints)."""
    return {f"e{e}": OPS[int(o)] for e, o in enumerate(ops)}


def _key_map(builtin: NB201Supernet) -> dict[str, str]:
    """Built-in supernet state-dict key -> key in :class:`NB201Network` (the supernet's model)."""
    out = {}
    for key in builtin.state_dict():
        parts = key.split(".")
        if parts[0] == "stem_conv":
            new = ["stem", "0", *parts[1:]]
        elif parts[0] == "stem_bn":
            new = ["stem", "1", *parts[1:]]
        elif parts[0] == "layers" and parts[2] in ("conv1", "conv3"):
            op = "nor_conv_1x1" if parts[2] == "conv1" else "nor_conv_3x3"
            # ReLUConvBN keeps (ReLU, conv, BN) in .op: "op.1" is the conv, "op.2" the BN
            new = ["layers", parts[1], "edges", parts[3], "candidates", op, *parts[5:]]
        elif parts[0] == "layers" and parts[2] in ("conv_a", "conv_b"):
            new = [*parts[:3], *parts[4:]]
        elif parts[0] == "layers" and parts[2] == "shortcut":
            new = [*parts[:3], "1", *parts[3:]]
        else:
            new = parts
        out[key] = ".".join(new)
    return out


def load_nb201_supernet(model: nn.Module, builtin: NB201Supernet) -> None:
    """Copy the built-in supernet's weights and BatchNorm statistics into ``model``, an
    :class:`NB201Network` built with every candidate (a supernet's ``model``)."""
    state = builtin.state_dict()
    model.load_state_dict({new: state[old] for old, new in _key_map(builtin).items()})
