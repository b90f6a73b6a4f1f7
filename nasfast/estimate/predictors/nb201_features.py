"""Per-cell numbers of the NAS-Bench-201 table as predictor features.

- :func:`low_fidelity_features`: the 12-epoch validation and test accuracy. In a real search this
  is a cheap low-fidelity evaluation (12 of 200 epochs: about 6% of a full training), not free.
- :func:`table_proxy_features`: zero-cost numbers the table holds (Zen-score, parameters, FLOPs).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nasfast.estimate.predictors.encodings import Features
from nasfast.spaces.discrete import Candidate
from nasfast.tabular.nb201 import NB201Table

PROXIES = ("zen", "params", "flops")


class _Columns:
    def __init__(self, columns: list[str], path: str | Path | None) -> None:
        self.table = NB201Table.load(path)
        for c in columns:
            self.table.column(c)  # ValueError naming an unknown column
        self.columns = columns

    def __call__(self, cands: list[Candidate]) -> np.ndarray:
        idx = self.table.indices_of(cands)
        return np.stack([self.table.columns[c][idx] for c in self.columns], axis=1)


def nb201_table_features(
    columns: Sequence[str], path: str | Path | None = None, name: str = "table"
) -> Features:
    """Features read from the given columns of the NAS-Bench-201 table."""
    columns = list(columns)
    if not columns:
        raise ValueError("columns: expected at least one NAS-Bench-201 column")
    return Features(_Columns(columns, path), dim=len(columns), name=name)


def low_fidelity_features(
    dataset: str = "cifar10",
    path: str | Path | None = None,
    splits: Sequence[str] = ("val", "test"),
) -> Features:
    """The 12-epoch accuracy on ``dataset`` (validation and/or test split) per cell."""
    table = NB201Table.load(path)
    metric = {"val": "accuracy", "test": "test_accuracy"}
    if not splits or any(s not in metric for s in splits):
        raise ValueError(f"splits: expected a non-empty subset of ('val', 'test'), got {splits!r}")
    cols = [table.resolve(metric[s], dataset, 12).column for s in splits]
    return nb201_table_features(cols, path, name="acc12")


def table_proxy_features(
    dataset: str = "cifar10",
    proxies: Sequence[str] = PROXIES,
    path: str | Path | None = None,
) -> Features:
    """Zero-cost numbers of each cell from the table (``zen``, ``params``, ``flops``); parameters
    and FLOPs enter as logarithms."""
    table = NB201Table.load(path)
    if not proxies or any(p not in PROXIES for p in proxies):
        raise ValueError(f"proxies: expected a non-empty subset of {PROXIES}, got {proxies!r}")
    cols = [table.resolve(p, dataset).column for p in proxies]
    read = _Columns(cols, path)
    logged = np.array([p in ("params", "flops") for p in proxies])

    def features(cands: list[Candidate]) -> np.ndarray:
        A = read(cands)
        A[:, logged] = np.log(A[:, logged])
        return A

    return Features(features, dim=len(cols), name="proxies")
