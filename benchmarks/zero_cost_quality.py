"""Zero-cost proxies on NAS-Bench-201: rank correlation with the 200-epoch CIFAR-10 accuracy.

    python benchmarks/zero_cost_quality.py --part synflow [--cells 1000]
    python benchmarks/zero_cost_quality.py --part data [--data-cells 100] [--dataset NAME]

1. synflow (data-free: all-ones CIFAR-10-shaped input) over ``--cells`` cells sampled with a
   fixed seed, each at its own random initialisation (the protocol of Abdelfattah et al. 2021),
   and with the weights of one supernet at initialisation shared by all cells (the batched
   pass). Published: Spearman 0.737 over all 15,625 cells.
2. The data-dependent proxies on ``--data-cells`` of those cells (own initialisation), scored on
   one minibatch of real images of ``--dataset`` (default: the MNIST digits shipped with
   nasfast, resized to 32x32 and replicated to 3 channels; pass ``cifar10`` or a CIFAR-10 path
   to score on CIFAR-10 itself). The published values were computed on CIFAR-10.

Accuracy: ``acc200_val_c10valid`` of the shipped table. A non-finite score (jacov of a cell
whose output ignores its input) ranks lowest. Writes JSON to
benchmarks/results/zero_cost_{synflow,data}.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
from scipy import stats
from tqdm import tqdm

from nasfast.bench.environment import environment
from nasfast.estimate.zero_cost.data import proxy_batch
from nasfast.estimate.zero_cost.nb201 import score_nb201
from nasfast.tabular.nb201 import NB201Table

PUBLISHED_CIFAR10 = {  # Spearman over NB201, CIFAR-10 (Abdelfattah et al., ICLR 2021)
    "synflow": 0.737,
    "grad_norm": 0.594,
    "snip": 0.596,
    "grasp": 0.514,
    "fisher": 0.360,
    "jacov": 0.731,
}
DATA_PROXIES = ("grad_norm", "snip", "grasp", "fisher", "jacov", "nwot", "epe_nas", "plain")


def correlations(scores: np.ndarray, acc: np.ndarray) -> dict[str, float]:
    s = np.where(np.isfinite(scores), scores, -np.inf)
    return {
        "spearman": float(stats.spearmanr(s, acc).statistic),
        "kendall": float(stats.kendalltau(s, acc).statistic),
        "non_finite": int((~np.isfinite(scores)).sum()),
    }


def in_chunks(archs: np.ndarray, fn, desc: str, size: int = 10) -> dict[str, np.ndarray]:
    parts: list[dict[str, np.ndarray]] = []
    for i in tqdm(range(0, len(archs), size), desc=desc, unit="chunk"):
        parts.append(fn(archs[i : i + size]))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("synflow", "data"), required=True)
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--data-cells", type=int, default=100)
    ap.add_argument("--dataset", default="mnist-small")
    ap.add_argument("--batch", type=int, default=32, help="images in the proxy minibatch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = args.out or f"benchmarks/results/zero_cost_{args.part}.json"
    torch.set_num_threads(args.threads)
    table = NB201Table.load()
    acc = table.column(table.final_accuracy_column("cifar10"))
    idx = np.random.default_rng(args.seed).choice(len(table), args.cells, replace=False)
    archs = table.ops[idx].astype(np.int64)
    result: dict = {"environment": environment(), "args": vars(args)}
    if args.part == "synflow":
        result["synflow"] = synflow_part(archs, acc[idx], args)
    else:
        result["data"] = data_part(archs, acc[idx], args)
    print(json.dumps({k: v for k, v in result.items() if k != "environment"}, indent=1))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {out}")


def synflow_part(archs: np.ndarray, acc: np.ndarray, args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    own = in_chunks(
        archs,
        lambda a: score_nb201(a, (3, 32, 32), "synflow", init="independent", backend="loop",
                              seed=args.seed, allow_nan=True),
        "synflow, own init",
    )["synflow"]  # fmt: skip
    t1 = time.perf_counter()
    shared = score_nb201(archs, (3, 32, 32), "synflow", seed=args.seed, allow_nan=True)["synflow"]
    t2 = time.perf_counter()
    return {
        "cells": len(archs),
        "own_init": {**correlations(own, acc), "seconds": t1 - t0},
        "shared_supernet_init": {**correlations(shared, acc), "seconds": t2 - t1},
        "published_spearman_all_cells": PUBLISHED_CIFAR10["synflow"],
    }


def data_part(archs: np.ndarray, acc: np.ndarray, args: argparse.Namespace) -> dict:
    x, y = proxy_batch(args.dataset, n=args.batch, seed=args.seed)
    sub = archs[: args.data_cells]
    t3 = time.perf_counter()
    data = in_chunks(
        sub,
        lambda a: score_nb201(a, (x, y), DATA_PROXIES, init="independent", backend="loop",
                              seed=args.seed, allow_nan=True),
        "data-dependent proxies",
    )  # fmt: skip
    return {
        "dataset": args.dataset,
        "images": args.batch,
        "cells": len(sub),
        "seconds": time.perf_counter() - t3,
        "proxies": {
            name: {
                **correlations(v, acc[: len(sub)]),
                "published_cifar10_spearman": PUBLISHED_CIFAR10.get(name),
            }
            for name, v in data.items()
        },  # fmt: skip
    }


if __name__ == "__main__":
    main()
