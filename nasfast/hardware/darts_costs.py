"""Per-edge latency costs of the DARTS search network for the cost-aware DARTS loss, from a
latency table: the ``darts_costs`` section ``nasfast.darts.costs`` reads.

Each edge shape (C, H, W, stride) of the search network and each search primitive gets its
predicted latency: the table's calibrated correction without its per-network constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasfast.hardware.latency import LatencyPredictor
from nasfast.nn.darts_primitives import PRIMITIVES, make_primitive


def search_edge_shapes(C: int, layers: int, image: list[int]) -> list[tuple[int, int, int, int]]:
    """The distinct (C, H, W, stride) of the DARTS search network's edges."""
    from nasfast.darts.network import SearchNetwork

    net = SearchNetwork(
        C, 10, layers, in_channels=image[0], image_size=tuple(image[1:]), backend="reference"
    )
    return sorted({s for cell in net.edge_input_sizes() for s in cell})


def edge_latency(
    predictor: LatencyPredictor, op: str, shape: tuple[int, int, int, int], batch: int
) -> float:
    C, H, W, stride = shape
    x = predictor.features(make_primitive(op, C, stride), (batch, C, H, W))
    cal = predictor.table.calibration
    coef = np.asarray(cal["coef"]) if cal else np.array([1.0, 0.0, 0.0, 0.0])
    return float(x[:3] @ coef[:3])


def darts_costs(
    predictor: LatencyPredictor, C: int, layers: int, image: list[int], batch: int = 1
) -> dict[str, Any]:
    """``{"unit": "ms", "costs": ..., "reference": ..., "edges": {"C,H,W,stride": {op: ms}}}``."""
    shapes = search_edge_shapes(C, layers, image)
    edges = {
        f"{c},{h},{w},{s}": {
            op: edge_latency(predictor, op, (c, h, w, s), batch) for op in PRIMITIVES
        }
        for c, h, w, s in shapes
    }
    ref = shapes[0]
    return {
        "unit": "ms",
        "metric": "latency",
        "reference": {"C": ref[0], "H": ref[1], "W": ref[2]},
        "costs": edges[f"{ref[0]},{ref[1]},{ref[2]},{ref[3]}"],
        "edges": edges,
    }
