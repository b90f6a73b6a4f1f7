"""Sets of observed learning curves stored as one ``.npz`` (ragged arrays with offsets).

Two sets ship with nasfast under ``nasfast/data/curves/`` (provenance and licenses beside them):
``lcdb_subset.npz`` (sample-wise curves of LCDB, Mohr et al. 2022, MIT) and
``fashion_mnist_epochs.npz`` (epoch-wise curves logged by nasfast's own training loop).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from nasfast._atomic import atomic_path

SHIPPED = ("lcdb_subset", "fashion_mnist_epochs")


@dataclass(frozen=True)
class LearningCurve:
    name: str
    x: np.ndarray  # budgets (training-set sizes, epochs, ...)
    y: np.ndarray  # scores at those budgets


@dataclass
class CurveSet:
    curves: list[LearningCurve]
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.curves)

    def __iter__(self) -> Iterator[LearningCurve]:
        return iter(self.curves)


def shipped_path(name: str) -> Path:
    if name not in SHIPPED:
        raise ValueError(f"name: expected one of {', '.join(SHIPPED)}, got {name!r}")
    return Path(str(resources.files("nasfast") / "data" / "curves" / f"{name}.npz"))


def load_curves(path: str | Path) -> CurveSet:
    """A curve set from ``path``, or by the name of a shipped one (``lcdb_subset``, ...)."""
    p = shipped_path(str(path)) if str(path) in SHIPPED else Path(path)
    if not p.is_file():
        raise ValueError(f"path: no curve set at {p}")
    with np.load(p, allow_pickle=False) as z:
        names, offsets, x, y = z["names"], z["offsets"], z["x"], z["y"]
        meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    curves = [
        LearningCurve(str(n), x[a:b].astype(float), y[a:b].astype(float))
        for n, a, b in zip(names, offsets[:-1], offsets[1:], strict=True)
    ]
    return CurveSet(curves, meta)


def save_curves(path: str | Path, curves: Sequence[LearningCurve], meta: dict[str, Any]) -> None:
    """Write atomically; ``meta`` (JSON) says how the curves were produced."""
    lengths = [len(c.x) for c in curves]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    with atomic_path(path, suffix=".tmp.npz") as tmp:
        np.savez_compressed(
            tmp,
            names=np.array([c.name for c in curves]),
            offsets=offsets,
            x=np.concatenate([c.x for c in curves]).astype(np.float64),
            y=np.concatenate([c.y for c in curves]).astype(np.float32),
            meta=np.array(json.dumps(meta)),
        )
