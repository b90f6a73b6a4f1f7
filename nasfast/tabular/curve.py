"""Accuracy reached vs evaluations spent: the mean incumbent 200-epoch accuracy of each strategy
at a few evaluation counts (from run dicts as results.json stores them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasfast.tabular.protocol import incumbent_curves


def parse_checkpoints(text: str, budget: int) -> list[int]:
    """``"25,50,100"`` as sorted evaluation counts, each in 1..budget."""
    try:
        points = sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise ValueError(f"curve: expected comma-separated integers, got {text!r}") from None
    if not points or points[0] < 1 or points[-1] > budget:
        raise ValueError(f"curve: expected evaluation counts in 1..{budget}, got {text!r}")
    return points


def accuracy_at(
    groups: dict[str, Sequence[dict[str, Any]]], checkpoints: Sequence[int]
) -> dict[str, list[float]]:
    """strategy -> mean over seeds of the best 200-epoch accuracy after each checkpoint's number
    of evaluations (a run that stopped early keeps its last incumbent)."""
    out = {}
    for label, runs in groups.items():
        C = incumbent_curves(runs)
        cols = [min(k, C.shape[1]) - 1 for k in checkpoints]
        out[label] = [float(np.mean(C[:, c])) for c in cols]
    return out


def curve_lines(curves: dict[str, list[float]], checkpoints: Sequence[int]) -> list[str]:
    lines = [
        "mean best 200-epoch validation accuracy (%) reached after N evaluations",
        f"{'strategy':<12}" + "".join(f"{'N=' + str(k):>10}" for k in checkpoints),
    ]
    for label, vals in curves.items():
        lines.append(f"{label:<12}" + "".join(f"{v:>10.2f}" for v in vals))
    return lines
