"""A genotype's network trained from scratch: built for the data, trained, saved.

``nasfast train`` is :func:`genotype_network`, :func:`~nasfast.darts.train.train_network` with
:func:`resume_settings`, then :func:`save_trained`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch

from nasfast._atomic import atomic_path, torch_save_atomic
from nasfast.darts.genotype import Genotype
from nasfast.darts.model import GenotypeNetwork
from nasfast.datasets import ImageData

MODEL_FILE = "model.pt"
RESULT_FILE = "result.json"


def genotype_network(
    genotype: Genotype,
    data: ImageData,
    *,
    channels: int,
    layers: int,
    auxiliary: bool = False,
    seed: int = 0,
) -> GenotypeNetwork:
    """The genotype's network for ``data``'s image shape and classes, initialized from ``seed``."""
    torch.manual_seed(seed)
    C_in, H, W = data.shape
    return GenotypeNetwork(
        genotype,
        channels,
        data.num_classes,
        layers,
        in_channels=C_in,
        image_size=(H, W),
        auxiliary=auxiliary,
    )


def resume_settings(net: GenotypeNetwork, channels: int, layers: int) -> dict[str, Any]:
    """What a resumed training run must share with the stored one besides its TrainConfig."""
    cells = net.genotype.to_dict()
    return {
        "genotype": {k: cells[k] for k in ("normal", "normal_concat", "reduce", "reduce_concat")},
        "channels": channels,
        "layers": layers,
        "auxiliary": net.auxiliary,
    }


def save_trained(
    out: str, net: GenotypeNetwork, data: ImageData, result: dict[str, Any], channels: int
) -> None:
    """``model.pt`` (genotype, weights and what rebuilds the network) and ``result.json``."""
    C_in, H, W = data.shape
    torch_save_atomic(
        {
            "genotype": net.genotype.to_dict(),
            "state_dict": net.state_dict(),
            "channels": channels,
            "layers": len(net.cells),
            "num_classes": data.num_classes,
            "in_channels": C_in,
            "image_size": [H, W],
            "auxiliary": net.auxiliary,
        },
        os.path.join(out, MODEL_FILE),
    )
    with atomic_path(os.path.join(out, RESULT_FILE)) as tmp, open(tmp, "w") as f:
        json.dump(result, f, indent=1)
