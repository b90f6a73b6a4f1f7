"""LCDB learning curves (Mohr et al. 2022, ``pip install lcdb``, MIT): read the package's table.

Each curve is one (OpenML data set, learner) pair: the validation accuracy at every training-set
size (anchor), averaged over LCDB's outer and inner seeds. Only anchors that every seed reached
are kept, so the mean does not mix different sets of seeds.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

from nasfast.estimate.curves.data import LearningCurve


def lcdb_table_path() -> str:
    """The table inside the installed package, found without importing it (its ``__init__``
    imports ``openml``, which the data does not need)."""
    spec = importlib.util.find_spec("lcdb")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("lcdb is not installed: pip install 'nasfast[bench]'")
    return os.path.join(list(spec.submodule_search_locations)[0], "database-accuracy.csv")


def read_lcdb_curves(min_anchors: int = 8) -> list[LearningCurve]:
    import pandas as pd

    df = pd.read_csv(
        lcdb_table_path(), usecols=["openmlid", "learner", "size_train", "score_valid"]
    )
    g = df.groupby(["openmlid", "learner", "size_train"]).score_valid.agg(["mean", "count"])
    g = g.reset_index()
    curves = []
    for (oid, learner), part in g.groupby(["openmlid", "learner"], sort=True):
        full = part["count"].to_numpy() >= part["count"].max()
        x = part["size_train"].to_numpy(dtype=float)[full]
        y = part["mean"].to_numpy(dtype=float)[full]
        if len(x) >= min_anchors and np.all(np.isfinite(y)):
            name = f"openml{oid}/{str(learner).rsplit('.', 1)[-1]}"
            curves.append(LearningCurve(name, x, y))
    return curves
