"""Predictor quality on NAS-Bench-201 (a report, not a timed test). Rerun:

    PYTHONPATH=. python benchmarks/predictors_quality.py [--seeds 10] [--sizes 20,100,1000]

Kendall tau between predicted and true 200-epoch cifar10-valid accuracy on a test set of 200 cells,
for training sets of 20 / 100 / 1000 cells drawn uniformly (disjoint from the test set; the same
splits for every predictor), mean +- std over seeds, per model x encoding x extra features.
Features: ``acc12`` = the cell's 12-epoch accuracy (validation and test split) from the table: a
cheap low-fidelity evaluation (12 of 200 epochs), not free; ``zc`` = the zero-cost numbers the
table holds (Zen-score, log parameters, log FLOPs). Writes ``predictors_quality.json`` (replacing
the last one; with ``--only``, only the rows it reruns) and re-renders ``predictors.md``. A
predictor that predicts one constant for the whole test set (a GP on 20 cells can) counts tau 0.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from nasfast._atomic import write_json
from nasfast.bench.environment import environment
from nasfast.estimate.predictors import (
    low_fidelity_features,
    make_predictor,
    table_proxy_features,
)
from nasfast.tabular.nb201 import NB201Table

# (model, encoding, features)
CONFIGS = [
    ("rf", "onehot", ""),
    ("rf", "onehot", "acc12"),
    ("rf", "path", ""),
    ("rf", "path", "acc12"),
    ("lgb", "onehot", ""),
    ("lgb", "onehot", "acc12"),
    ("lgb", "path", ""),
    ("lgb", "path", "acc12"),
    ("gp", "onehot", ""),
    ("gp", "onehot", "acc12"),
    ("gp", "path", "acc12"),
    ("mlp", "onehot", "acc12"),
    ("mlp", "adjacency", ""),
    ("mlp", "adjacency", "acc12"),
    ("mlp", "path", ""),
    ("mlp", "path", "acc12"),
    ("gcn", "graph", ""),
    ("gcn", "graph", "acc12"),
    ("rf", "onehot", "acc12+zc"),
    ("lgb", "onehot", "acc12+zc"),
    ("mlp", "path", "acc12+zc"),
]
TEST_SIZE = 200
# a GP is cubic in the training set and serves small ones; its hyperparameter search at n = 1000
# costs minutes per fit on a shared 2-core machine
MAX_SIZE = {"gp": 100}
TARGET = {100: 0.70, 1000: 0.82}
ANCHOR = {"rf onehot": {100: 0.45, 1000: 0.70}}


def label(model: str, encoding: str, features: str) -> str:
    return f"{model} {encoding}" + (f" + {features}" if features else "")


def _label_of(row: dict) -> str:
    return label(row["model"], row["encoding"], row["features"])


def features_of(name: str) -> list:
    out = []
    if "acc12" in name:
        out.append(low_fidelity_features("cifar10"))
    if "zc" in name:
        out.append(table_proxy_features("cifar10"))
    return out


def splits(n_train: int, seeds: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for s in seeds:
        perm = np.random.default_rng(1000 + s).permutation(len(NB201Table.load()))
        out.append((perm[TEST_SIZE : TEST_SIZE + n_train], perm[:TEST_SIZE]))
    return out


def evaluate(config: tuple[str, str, str], sizes: list[int], seeds: list[int]) -> dict:
    table = NB201Table.load()
    y = table.columns[table.final_accuracy_column("cifar10")]
    ops = [tuple(int(v) for v in r) for r in table.ops]
    model, encoding, feats = config
    row: dict = {"model": model, "encoding": encoding, "features": feats, "sizes": {}}
    for n in sizes:
        if n > MAX_SIZE.get(model, n):
            continue
        taus, secs = [], []
        for seed, (tr, te) in zip(seeds, splits(n, seeds), strict=True):
            t = time.perf_counter()
            pred = make_predictor(model, encoding=encoding, features=features_of(feats) or None)
            pred.fit([ops[i] for i in tr], y[tr], seed=seed)
            tau = float(kendalltau(pred.predict([ops[i] for i in te]), y[te])[0])
            taus.append(0.0 if np.isnan(tau) else tau)  # constant predictions rank nothing
            secs.append(time.perf_counter() - t)
        row["sizes"][str(n)] = {
            "tau": taus,
            "mean": float(np.mean(taus)),
            "std": float(np.std(taus, ddof=1)) if len(taus) > 1 else 0.0,
            "fit_seconds_mean": float(np.mean(secs)),
        }
        print(f"  {label(*config):<26} n={n:<5} tau {np.mean(taus):.3f}", flush=True)
    return row


def acc12_alone(sizes: list[int], seeds: list[int]) -> dict:
    """The 12-epoch validation accuracy itself as the ranking (no training set used)."""
    table = NB201Table.load()
    y = table.columns[table.final_accuracy_column("cifar10")]
    lf = table.columns["acc12_cifar10_val"]
    taus = [float(kendalltau(lf[te], y[te])[0]) for _, te in splits(sizes[0], seeds)]
    return {"tau": taus, "mean": float(np.mean(taus)), "std": float(np.std(taus, ddof=1))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--sizes", default="20,100,1000")
    ap.add_argument("--only", default=None, help="comma-separated labels to run (default all)")
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    seeds = list(range(args.seeds))
    sizes = [int(s) for s in args.sizes.split(",")]
    configs = CONFIGS
    if args.only:
        keep = {s.strip() for s in args.only.split(",")}
        configs = [c for c in CONFIGS if label(*c) in keep]
    out = Path(args.out)
    result = {
        "environment": environment(),
        "dataset": "cifar10",
        "metric": "acc200_val_c10valid",
        "test_size": TEST_SIZE,
        "seeds": seeds,
        "sizes": sizes,
        "target": TARGET,
        "anchor": ANCHOR,
        "acc12_alone": acc12_alone(sizes, seeds),
        "rows": [],
    }
    path = out / "predictors_quality.json"
    kept = {}
    if args.only and path.is_file():
        old = json.loads(path.read_text())
        kept = {label(r["model"], r["encoding"], r["features"]): r for r in old["rows"]}
    for config in configs:
        kept[label(*config)] = evaluate(config, sizes, seeds)
        order = [label(*c) for c in CONFIGS]
        result["rows"] = sorted(kept.values(), key=lambda r: order.index(_label_of(r)))
        write_json(path, result)  # partial results survive a kill
    from predictors_report import render

    print(render(out))


if __name__ == "__main__":
    main()
