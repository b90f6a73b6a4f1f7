"""Cost of exact hypervolume as the objectives grow, and how fast Ctrl-C stops it.

N points on a sphere (all mutually non-dominated, the hard case) in M objectives: the wall time
of one ``nasfast.pareto.hypervolume`` call per M (absolute seconds on this machine, one thread:
a cost description, not a speed comparison), then the time from a SIGINT sent 1 s into the
largest call until ``KeyboardInterrupt`` reaches the caller. Writes
``benchmarks/results/hypervolume_cost.json`` and ``.md``.

    python benchmarks/hypervolume_cost.py [--points 50] [--objectives 4,6,8,10,12,15,20]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from nasfast import pareto
from nasfast.bench.environment import environment

RESULTS = Path(__file__).resolve().parent / "results"


def sphere(n: int, m: int, seed: int = 0) -> np.ndarray:
    F = np.random.default_rng(seed).random((n, m))
    return 1.0 - F / np.linalg.norm(F, axis=1, keepdims=True)


def interrupt_latency(F: np.ndarray, after: float = 1.0) -> float:
    """Seconds from SIGINT to the KeyboardInterrupt in the caller."""
    sent = []

    def fire() -> None:
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Timer(after, fire).start()
    try:
        pareto.hypervolume(F, [1.0] * F.shape[1])
    except KeyboardInterrupt:
        return time.perf_counter() - sent[0]
    raise RuntimeError("the call ended before the interrupt")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=50)
    ap.add_argument("--objectives", default="4,6,8,10,12,15,20")
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", RuntimeWarning)
    ms = [int(v) for v in args.objectives.split(",")]
    rows = []
    for m in ms:
        F = sphere(args.points, m)
        t = time.perf_counter()
        hv = pareto.hypervolume(F, [1.0] * m)
        rows.append({"M": m, "N": args.points, "seconds": time.perf_counter() - t, "hv": hv})
        print(rows[-1], flush=True)
    latency = interrupt_latency(sphere(args.points, ms[-1]))
    out = {
        "environment": environment(),
        "command": "python benchmarks/hypervolume_cost.py "
        f"--points {args.points} --objectives {args.objectives}",
        "rows": rows,
        "interrupt": {"M": ms[-1], "N": args.points, "seconds_to_stop": latency},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "hypervolume_cost.json").write_text(json.dumps(out, indent=1) + "\n")
    env = out["environment"]
    lines = [
        "# Exact hypervolume: cost as the objectives grow, and Ctrl-C",
        "",
        f"Machine: {env['cpu']} ({env['cpu_count']} cores, shared and loaded), one thread; "
        f"torch {env['torch']}; commit {env['commit']}.",
        f"Command: `{out['command']}`. JSON: `hypervolume_cost.json`.",
        "",
        f"{args.points} points on a sphere (all mutually non-dominated, the hard case). Wall time "
        "of one call (absolute seconds on a busy machine: a cost description, not a comparison).",
        "",
        "| M | seconds |",
        "|---|---|",
        *[f"| {r['M']} | {r['seconds']:.3g} |" for r in rows],
        "",
        f"Ctrl-C (SIGINT 1 s into the M = {ms[-1]} call) reached the caller "
        f"{latency * 1e3:.0f} ms after the signal; the kernel stopped with it.",
        "",
    ]
    (RESULTS / "hypervolume_cost.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
