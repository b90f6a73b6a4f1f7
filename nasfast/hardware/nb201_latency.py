"""Predicted latency of all 15,625 NAS-Bench-201 networks at once, equal to
``LatencyPredictor.predict`` on each network.

The predictor's features (table ms, operator calls, module calls) add up over a network's
pieces, and a candidate's cells all run the same 6 ops, so the features of a network are those
of one network of the space, minus its cells, plus N cells per stage, each the sum of its 6 edge
ops and its 3 node additions.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nasfast.hardware.latency import LatencyPredictor
from nasfast.hardware.nb201_memory import all_archs
from nasfast.nn.nb201_network import edge_op
from nasfast.spaces.nb201 import OPS

ADDS_PER_CELL = 3  # node 2 sums two edges, node 3 three


class _Add(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


def _module_call() -> np.ndarray:
    return np.array([0.0, 0.0, 1.0, 0.0])


def _constant() -> np.ndarray:
    return np.array([0.0, 0.0, 0.0, 1.0])


def _stage_features(
    predictor: LatencyPredictor, cfg: dict
) -> list[tuple[list[np.ndarray], np.ndarray]]:
    B, H, W = cfg["batch"], cfg["image"][1], cfg["image"][2]
    stages = []
    for s in range(3):
        shape = (B, cfg["C"] * 2**s, H // 2**s, W // 2**s)
        ops = [
            predictor.features(edge_op(o, shape[1]), shape) - _constant() for o in range(len(OPS))
        ]
        t = torch.empty(shape, device="meta")
        add = predictor.features(_Add(), (t, t)) - _constant() - _module_call()
        stages.append((ops, add))
    return stages


def nb201_latency(predictor: LatencyPredictor, archs: np.ndarray | None = None) -> np.ndarray:
    """Predicted ms of the NB201 network of each arch row (default: all 15,625 in mixed-radix
    order); the predictor's table must describe an ``nb201`` space."""
    cfg = predictor.table.space
    if cfg is None or cfg.get("name") != "nb201":
        raise ValueError("table: expected a latency table of the nb201 space")
    archs = all_archs() if archs is None else np.asarray(archs, dtype=np.int64).reshape(-1, 6)
    stages = _stage_features(predictor, cfg)
    # per stage and op: features of one edge; per stage: features of the rest of a cell
    op_f = np.array([ops for ops, _ in stages])  # [3, 5, 4]
    rest = np.array([ADDS_PER_CELL * add + _module_call() for _, add in stages])  # [3, 4]
    N = cfg["N"]
    ref = (0,) * 6
    ref_cells = N * (op_f[:, list(ref), :].sum(axis=(0, 1)) + rest.sum(axis=0))
    skeleton = predictor.features(ref) - ref_cells
    X = skeleton + N * (op_f.sum(axis=0)[archs].sum(axis=1) + rest.sum(axis=0))
    return predictor.predict_features(X)
