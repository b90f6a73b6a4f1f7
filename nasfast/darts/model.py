"""The network a genotype describes, as a plain ``nn.Module`` (only torch layers), for training
from scratch (DARTS evaluation network: affine BatchNorm, drop-path, optional auxiliary head).

    from nasfast.darts import Genotype
    from nasfast.darts.model import GenotypeNetwork
    net = GenotypeNetwork(Genotype.load("genotype.json"), C=36, num_classes=10, layers=20)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nasfast.darts.genotype import Genotype
from nasfast.darts.layers import Stem, preprocess, reduction_layers
from nasfast.nn.darts_primitives import ReLUConvBN, make_primitive


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples with probability ``drop_prob``, rescale the rest."""
    keep = 1.0 - drop_prob
    mask = torch.empty(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class EvalCell(nn.Module):
    def __init__(
        self,
        gene: list[tuple[str, int]],
        concat: list[int],
        C_pp: int,
        C_p: int,
        C: int,
        reduction: bool,
        reduction_prev: bool,
    ):
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = preprocess(C_pp, C, reduction_prev, affine=True)
        self.preprocess1 = ReLUConvBN(C_p, C, 1, 1, 0, affine=True)
        self.steps = len(gene) // 2
        self.concat = list(concat)
        self.indices = [j for _, j in gene]
        self.ops = nn.ModuleList(
            make_primitive(op, C, 2 if reduction and j < 2 else 1, search=False) for op, j in gene
        )
        self.multiplier = len(self.concat)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(self.steps):
            hs = []
            for k in (2 * i, 2 * i + 1):
                op = self.ops[k]
                h = op(states[self.indices[k]])
                if self.training and drop_prob > 0 and not isinstance(op, nn.Identity):
                    h = drop_path(h, drop_prob)
                hs.append(h)
            states.append(hs[0] + hs[1])
        return torch.cat([states[k] for k in self.concat], dim=1)


class AuxiliaryHead(nn.Module):
    """DARTS's auxiliary classifier (pooled to 2x2 whatever the input size)."""

    def __init__(self, C: int, num_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AdaptiveAvgPool2d(2),
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class GenotypeNetwork(nn.Module):
    """Stem, ``layers`` cells of the genotype (reductions at 1/3 and 2/3), pooling, classifier.

    ``forward`` returns the logits; in training with ``auxiliary=True`` it returns
    ``(logits, auxiliary_logits)``. ``drop_path_prob`` is an attribute the trainer schedules.
    """

    def __init__(
        self,
        genotype: Genotype,
        C: int,
        num_classes: int,
        layers: int,
        *,
        in_channels: int = 3,
        image_size: tuple[int, int] = (32, 32),
        auxiliary: bool = False,
        stem_multiplier: int = 3,
    ):
        super().__init__()
        if not isinstance(C, int) or C < 1:
            raise ValueError(f"C: expected a positive count, got {C!r}")
        if not isinstance(layers, int) or layers < 1:
            raise ValueError(f"layers: expected a positive count, got {layers!r}")
        self.genotype = genotype
        self.drop_path_prob = 0.0
        self.auxiliary = auxiliary
        self.stem = Stem(in_channels, stem_multiplier * C, image_size)
        C_pp = C_p = stem_multiplier * C
        C_cur = C
        reductions = reduction_layers(layers)
        aux_at = 2 * layers // 3
        cells = []
        reduction_prev = False
        C_aux = None
        for i in range(layers):
            reduction = i in reductions
            if reduction:
                C_cur *= 2
            gene, concat = (
                (genotype.reduce, genotype.reduce_concat)
                if reduction
                else (genotype.normal, genotype.normal_concat)
            )
            cell = EvalCell(gene, concat, C_pp, C_p, C_cur, reduction, reduction_prev)
            cells.append(cell)
            reduction_prev = reduction
            C_pp, C_p = C_p, cell.multiplier * C_cur
            if i == aux_at:
                C_aux = C_p
        self.cells = nn.ModuleList(cells)
        self.aux_at = aux_at
        self.auxiliary_head = AuxiliaryHead(C_aux, num_classes) if auxiliary else None
        self.classifier = nn.Linear(C_p, num_classes)

    def forward(self, x: torch.Tensor):
        aux = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.aux_at and self.auxiliary_head is not None and self.training:
                aux = self.auxiliary_head(s1)
        logits = self.classifier(F.adaptive_avg_pool2d(s1, 1).flatten(1))
        if aux is not None:
            return logits, aux
        return logits


def count_parameters(net: nn.Module, *, exclude_auxiliary: bool = True) -> int:
    return sum(
        p.numel()
        for n, p in net.named_parameters()
        if not (exclude_auxiliary and n.startswith("auxiliary_head"))
    )
