"""Analytic peak memory vs the allocator's measured peak (a report, not a timed test). Rerun:

    PYTHONPATH=. python benchmarks/hardware_memory.py [--out benchmarks/results]

100 networks: 50 random NAS-Bench-201 networks (C=16, N=5, batch 32) and 50 random DARTS
genotype networks (C=8, 5 cells, batch 16), 32x32 inputs. For each: the analytic peak
(meta tensors, kernel workspaces measured per distinct op call) and the measured peak (CPU: the
profiler's allocation events on top of what was held before) for inference and for one
steady-state training step (SGD with momentum for the first 25 of each space, Adam for the rest).
Target: >= 90% of networks within +-10%. Also reported: the analytic inference peak without
workspaces (graph only).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from nasfast.bench.environment import environment
from nasfast.hardware import spaces
from nasfast.hardware.measure import cpu_peak_bytes
from nasfast.hardware.memory import (
    default_loss,
    inference_memory,
    make_optimizer,
    optimizer_state_tensors,
    storage_bytes,
    training_memory,
)
from nasfast.hardware.workspace import Workspaces
from nasfast.tabular.protocol import write_json

CONFIGS = {
    "nb201": spaces.space_config("nb201", batch=32),
    "darts": spaces.space_config("darts", C=8, layers=5, batch=16),
}


def measured_inference(net: torch.nn.Module, shape) -> int:
    net.eval()
    x = torch.randn(shape)
    held = storage_bytes([*net.parameters(), *net.buffers(), x])
    with torch.no_grad():
        return held + cpu_peak_bytes(lambda: net(x))


def measured_training(net: torch.nn.Module, shape, optimizer: str) -> int:
    net.train()
    x = torch.randn(shape)
    opt = make_optimizer(optimizer, list(net.parameters()))

    def step() -> None:
        default_loss(net(x)).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    held = storage_bytes([*net.parameters(), *net.buffers(), x, *optimizer_state_tensors(opt)])
    return held + cpu_peak_bytes(step)


def rel_within(a: np.ndarray, m: np.ndarray, tol: float = 0.10) -> float:
    return float(np.mean(np.abs(a - m) / m <= tol))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-space", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ws = Workspaces("cpu")
    rows = []
    t0 = time.perf_counter()
    for name, cfg in CONFIGS.items():
        rng = np.random.default_rng(args.seed)
        for i in range(args.per_space):
            arch = spaces.random_arch(cfg, rng)
            net = spaces.build_network(cfg, arch)
            shape = spaces.input_shape(cfg)
            opt = "momentum" if i < args.per_space // 2 else "adam"
            t = time.perf_counter()
            row = {
                "space": name,
                "optimizer": opt,
                "inference_analytic": inference_memory(net, shape, ws).peak,
                "inference_graph_only": inference_memory(net, shape).peak,
                "training_analytic": training_memory(net, shape, opt, workspaces=ws).peak,
            }
            row["analytic_seconds"] = time.perf_counter() - t
            row["inference_measured"] = measured_inference(net, shape)
            row["training_measured"] = measured_training(net, shape, opt)
            rows.append(row)
            print(
                name,
                i,
                {k: v for k, v in row.items() if k.endswith(("analytic", "measured"))},
                flush=True,
            )
    col = {
        k: np.array([r[k] for r in rows], dtype=np.float64)
        for k in rows[0]
        if k not in ("space", "optimizer")
    }
    summary = {}
    for mode in ("inference", "training"):
        m = col[f"{mode}_measured"]
        summary[mode] = {
            "within_10pct": rel_within(col[f"{mode}_analytic"], m),
            "median_rel_error": float(np.median(np.abs(col[f"{mode}_analytic"] - m) / m)),
            "max_rel_error": float(np.max(np.abs(col[f"{mode}_analytic"] - m) / m)),
        }
    summary["inference"]["graph_only_within_10pct"] = rel_within(
        col["inference_graph_only"], col["inference_measured"]
    )
    out = {
        "environment": environment(),
        "configs": CONFIGS,
        "networks": len(rows),
        "seconds": time.perf_counter() - t0,
        "analytic_seconds_median": float(np.median(col["analytic_seconds"])),
        "summary": summary,
        "rows": rows,
    }
    print(summary)
    write_json(Path(args.out) / "hardware_memory.json", out)


if __name__ == "__main__":
    main()
