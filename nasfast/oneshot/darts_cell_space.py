"""The DARTS cell space written with the model-space API.

The same network as the built-in DARTS search network (:class:`nasfast.darts.
SearchNetwork`, Liu et al., ICLR 2019): stem, ``layers`` cells (reductions at 1/3 and 2/3 of the
depth), 4 intermediate nodes per cell, each summing a layer choice over the eight DARTS
primitives on every earlier node, the last 4 nodes concatenated, pooling and a classifier. The
choices are labelled ``normal_e{k}`` / ``reduce_e{k}`` (edge k in DARTS's order), shared by all
cells of a type, as DARTS shares ``alphas_normal`` / ``alphas_reduce``. A one-shot supernet runs
every edge as a fused DartsEdge (its candidates are exactly the DARTS primitives).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nasfast.darts.layers import Stem, preprocess, reduction_layers
from nasfast.darts.network import SearchNetwork
from nasfast.nn.darts_primitives import PRIMITIVES, make_primitive
from nasfast.oneshot.model_supernet import ModelSupernet
from nasfast.spaces.model import LayerChoice


def darts_ops(C: int, stride: int) -> dict[str, nn.Module]:
    """The eight DARTS search primitives of one edge, by name (a DartsEdge's layout)."""
    return {p: make_primitive(p, C, stride) for p in PRIMITIVES}


class DartsCell(nn.Module):
    def __init__(
        self, steps: int, multiplier: int, C_pp: int, C_p: int, C: int, reduction: bool,
        reduction_prev: bool,
    ):  # fmt: skip
        super().__init__()
        self.reduction, self.steps, self.multiplier = reduction, steps, multiplier
        self.preprocess0 = preprocess(C_pp, C, reduction_prev, affine=False)
        self.preprocess1 = preprocess(C_p, C, False, affine=False)
        kind = "reduce" if reduction else "normal"
        edges = []
        for i in range(steps):
            for j in range(2 + i):
                stride = 2 if reduction and j < 2 else 1
                edges.append(LayerChoice(darts_ops(C, stride), label=f"{kind}_e{len(edges)}"))
        self.edges = nn.ModuleList(edges)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        offset = 0
        for _ in range(self.steps):
            s = 0
            for j, h in enumerate(states):
                s = s + self.edges[offset + j](h)
            offset += len(states)
            states.append(s)
        return torch.cat(states[-self.multiplier :], dim=1)


class DartsCellNetwork(nn.Module):
    """The DARTS search space as a model space
    (``ModelSpace(DartsCellNetwork, C, num_classes, layers, in_channels=..., image_size=...)``).
    """

    def __init__(
        self,
        C: int,
        num_classes: int,
        layers: int,
        *,
        in_channels: int = 3,
        image_size: tuple[int, int] = (32, 32),
        steps: int = 4,
        multiplier: int = 4,
        stem_multiplier: int = 3,
    ):
        super().__init__()
        self.stem = Stem(in_channels, stem_multiplier * C, image_size)
        C_pp = C_p = stem_multiplier * C
        C_cur = C
        reductions = reduction_layers(layers)
        cells = []
        reduction_prev = False
        for i in range(layers):
            reduction = i in reductions
            if reduction:
                C_cur *= 2
            cells.append(DartsCell(steps, multiplier, C_pp, C_p, C_cur, reduction, reduction_prev))
            reduction_prev = reduction
            C_pp, C_p = C_p, multiplier * C_cur
        self.cells = nn.ModuleList(cells)
        self.classifier = nn.Linear(C_p, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(F.adaptive_avg_pool2d(s1, 1).flatten(1))


def load_search_network(supernet: ModelSupernet, builtin: SearchNetwork) -> None:
    """Copy the built-in search network's weights, BatchNorm statistics and alphas into the
    supernet of a :class:`DartsCellNetwork` space of the same shape."""
    state = builtin.state_dict()
    mine = supernet.model.state_dict()
    for key, value in state.items():
        if key.startswith(("alphas_", "betas_", "op_mask")):
            continue
        parts = key.split(".")
        if len(parts) > 5 and parts[2] == "edges" and parts[4] == "ops":
            parts = [*parts[:4], "candidates", PRIMITIVES[int(parts[5])], *parts[6:]]
        new = ".".join(parts)
        if new not in mine:
            raise ValueError(f"builtin: no counterpart for {key!r} in the model space's supernet")
        mine[new] = value
    supernet.model.load_state_dict(mine)
    with torch.no_grad():
        for kind, alphas in (("normal", builtin.alphas_normal), ("reduce", builtin.alphas_reduce)):
            for e in range(alphas.shape[0]):
                label = f"{kind}_e{e}"
                if label in supernet.alphas:
                    supernet.alphas[label].copy_(alphas[e])


def darts_alphas(supernet: ModelSupernet, kind: str) -> torch.Tensor:
    """The ``[14, 8]`` logits of the ``normal`` or ``reduce`` cell, in DARTS's edge order."""
    if kind not in ("normal", "reduce"):
        raise ValueError(f"kind: expected 'normal' or 'reduce', got {kind!r}")
    rows, e = [], 0
    while f"{kind}_e{e}" in supernet.alphas:
        rows.append(supernet.alphas[f"{kind}_e{e}"].detach())
        e += 1
    if not rows:
        raise ValueError(f"supernet: no {kind} cell choices (is it a DartsCellNetwork space?)")
    return torch.stack(rows)


def darts_genotype(supernet: ModelSupernet, *, steps: int = 4, max_skips: int | None = 2):
    """The DARTS genotype of the supernet's alphas (the built-in derivation: two strongest
    inputs per node, strongest non-``none`` op per edge)."""
    from nasfast.darts.genotype import derive_genotype

    return derive_genotype(
        darts_alphas(supernet, "normal").double().numpy(),
        darts_alphas(supernet, "reduce").double().numpy(),
        steps=steps,
        multiplier=steps,
        max_skips=max_skips,
    )
