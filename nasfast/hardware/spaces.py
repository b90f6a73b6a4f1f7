"""The search spaces the hardware objectives know: their networks, random members, and the few
networks whose operator calls cover every call of the space.

A space config is a dict stored in the latency table::

    {"name": "nb201", "C": 16, "N": 5, "batch": 1, "image": [3, 32, 32], "num_classes": 10}
    {"name": "darts", "C": 16, "layers": 8, "batch": 1, "image": [3, 32, 32], "num_classes": 10}
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from nasfast.nn.nb201_network import NB201Network

SPACES = ("nb201", "darts")
DEFAULTS: dict[str, dict[str, Any]] = {
    "nb201": {
        "name": "nb201",
        "C": 16,
        "N": 5,
        "batch": 1,
        "image": [3, 32, 32],
        "num_classes": 10,
    },
    "darts": {
        "name": "darts",
        "C": 16,
        "layers": 8,
        "batch": 1,
        "image": [3, 32, 32],
        "num_classes": 10,
    },
}
DARTS_OPS = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)


def _darts():
    """The DARTS genotype and network classes (imported on first use)."""
    from nasfast.darts.genotype import Genotype
    from nasfast.darts.model import GenotypeNetwork

    return Genotype, GenotypeNetwork


def space_config(name: str, **overrides: Any) -> dict[str, Any]:
    """The default config of space ``name`` with ``overrides`` (None values ignored)."""
    if name not in DEFAULTS:
        raise ValueError(f"space: expected one of {', '.join(SPACES)}, got {name!r}")
    cfg = dict(DEFAULTS[name])
    for key, v in overrides.items():
        if v is None:
            continue
        if key not in cfg:
            raise ValueError(f"{key}: not a setting of the {name} space ({', '.join(cfg)})")
        cfg[key] = v
    for key in ("C", "N", "layers", "batch", "num_classes"):
        v = cfg.get(key)
        if key in cfg and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError(f"{key}: expected an int >= 1, got {v!r}")
    img = cfg["image"]
    if not (
        isinstance(img, (list, tuple))
        and len(img) == 3
        and all(isinstance(v, int) and v > 0 for v in img)
    ):
        raise ValueError(f"image: expected [channels, height, width] positive ints, got {img!r}")
    cfg["image"] = list(img)
    return cfg


def input_shape(cfg: dict[str, Any]) -> tuple[int, ...]:
    return (cfg["batch"], *cfg["image"])


def build_network(cfg: dict[str, Any], arch: Any) -> nn.Module:
    """The network of ``arch`` in the space: NB201 op codes / arch string, or a DARTS genotype
    (a ``Genotype`` or its dict)."""
    if cfg["name"] == "nb201":
        if isinstance(arch, str):
            from nasfast.spaces.nb201 import arch_str_to_ops

            arch = arch_str_to_ops(arch)
        return NB201Network(arch, cfg["C"], cfg["N"], cfg["num_classes"], cfg["image"][0])
    Genotype, GenotypeNetwork = _darts()
    if isinstance(arch, dict):
        arch = Genotype.from_dict(arch)
    if not isinstance(arch, Genotype):
        raise ValueError(f"arch: expected a DARTS Genotype, got {type(arch).__name__}")
    return GenotypeNetwork(
        arch,
        cfg["C"],
        cfg["num_classes"],
        cfg["layers"],
        in_channels=cfg["image"][0],
        image_size=tuple(cfg["image"][1:]),
    )


def random_arch(cfg: dict[str, Any], rng: np.random.Generator) -> Any:
    if cfg["name"] == "nb201":
        return tuple(int(v) for v in rng.integers(0, 5, size=6))
    Genotype, _ = _darts()

    def cell() -> list[tuple[str, int]]:
        gene = []
        for i in range(4):
            for j in rng.choice(2 + i, size=2, replace=False):
                gene.append((str(DARTS_OPS[rng.integers(len(DARTS_OPS))]), int(j)))
        return gene

    return Genotype(cell(), [2, 3, 4, 5], cell(), [2, 3, 4, 5])


def covering_archs(cfg: dict[str, Any]) -> list[Any]:
    """Archs whose networks make every distinct operator call the space can make: one op on
    every edge, each op in turn (all edges of a cell see inputs of one shape)."""
    if cfg["name"] == "nb201":
        return [(k,) * 6 for k in range(5)]
    Genotype, _ = _darts()
    out = []
    for op in DARTS_OPS:
        gene = [(op, j) for i in range(4) for j in (0, i + 1)]
        out.append(Genotype(gene, [2, 3, 4, 5], list(gene), [2, 3, 4, 5]))
    return out
