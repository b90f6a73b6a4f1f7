"""Zero-cost scores of DARTS-space cells given by genotype (each network at its own init)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasfast.darts.genotype import Genotype
from nasfast.darts.model import GenotypeNetwork
from nasfast.estimate.zero_cost.api import check_seed, score


class DartsNetwork(nn.Module):
    """A :class:`GenotypeNetwork` (no auxiliary head) with its pre-pooling features exposed
    (``forward_before_global_avg_pool``, which zen reads)."""

    def __init__(self, net: GenotypeNetwork):
        super().__init__()
        self.net = net

    def forward_before_global_avg_pool(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.net.stem(x)
        for cell in self.net.cells:
            s0, s1 = s1, cell(s0, s1, self.net.drop_path_prob)
        return s1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = F.adaptive_avg_pool2d(self.forward_before_global_avg_pool(x), 1)
        return self.net.classifier(feats.flatten(1))


def as_genotype(g: object, name: str) -> Genotype:
    if isinstance(g, Genotype):
        return g
    if isinstance(g, dict):
        return Genotype.from_dict(g, source=name)
    raise ValueError(f"{name}: expected a Genotype or its dict, got {type(g).__name__}")


def darts_network(
    genotype: Genotype | dict,
    *,
    C: int = 16,
    layers: int = 8,
    num_classes: int = 10,
    shape: tuple[int, int, int] = (3, 32, 32),
    seed: int = 0,
) -> DartsNetwork:
    """The network of ``genotype`` at PyTorch's default initialisation drawn under ``seed``."""
    g = as_genotype(genotype, "genotype")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_seed(seed) or 0)
        net = GenotypeNetwork(
            g, C, num_classes, layers, in_channels=shape[0], image_size=tuple(shape[1:])
        )
    return DartsNetwork(net)


def score_darts(
    genotypes: Sequence[Genotype | dict],
    batch_or_shape: object,
    proxies: str | Sequence[str],
    *,
    C: int = 16,
    layers: int = 8,
    num_classes: int = 10,
    seed: int = 0,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    allow_nan: bool = False,
) -> dict[str, np.ndarray]:
    """``{proxy: float64 [P] scores}`` of DARTS-space genotypes, one network each (built by
    :func:`darts_network` for the batch's image shape), scored by
    :func:`~nasfast.estimate.zero_cost.score`."""
    from nasfast.estimate.zero_cost.inputs import as_batch

    names = [proxies] if isinstance(proxies, str) else list(proxies)
    if not names:
        raise ValueError("proxies: expected at least one proxy name")
    if isinstance(genotypes, (Genotype, dict)) or len(genotypes) == 0:
        raise ValueError("genotypes: expected a non-empty sequence of genotypes")
    shape = as_batch(batch_or_shape).shape
    if len(shape) != 3:
        raise ValueError(f"batch: expected images of shape (C, H, W), got {shape}")
    out: dict[str, list[float]] = {n: [] for n in names}
    for k, g in enumerate(genotypes):
        net = darts_network(
            as_genotype(g, f"genotypes[{k}]"), C=C, layers=layers, num_classes=num_classes,
            shape=shape, seed=seed,
        )  # fmt: skip
        for n in names:
            out[n].append(
                score(net, batch_or_shape, n, loss_fn=loss_fn, seed=seed, allow_nan=allow_nan)
            )
    return {n: np.asarray(v, dtype=np.float64) for n, v in out.items()}
