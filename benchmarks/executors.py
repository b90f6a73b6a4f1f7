"""Parallel candidate evaluation: evaluations per minute with 2 workers vs 1, and the per-
evaluation overhead of the executors (a report, not a timed test). Rerun:

    PYTHONPATH=. python benchmarks/executors.py [--rounds 3] [--evals 12] [--out benchmarks/results]

Throughput: random search over a small MLP space, each evaluation a real short training (SGD on
4096 random 64-feature samples, one torch thread per worker), on the local process pool with 1
and with 2 workers, alternated round by round in one process; the ratio of evaluations per
minute per round pair (target >= 1.8x on a 2-core machine). Overhead: an objective that returns
at once, evaluated one candidate at a time (submit, wait, outcome), minus the same in-process;
the median over many evaluations (target for Ray < 10 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from nasfast._atomic import write_json
from nasfast.bench.environment import environment
from nasfast.search import Problem, make_strategy, minimize
from nasfast.search.executors import InProcess, ProcessPool
from nasfast.spaces import DiscreteSpace

WIDTHS = (96, 128, 160, 192)
DEPTHS = (1, 2, 3)
STEPS = 300


def train_mlp(c) -> dict:
    """One short training of an MLP chosen by ``c`` (width, depth, learning rate)."""
    import torch

    width, depth, lr = WIDTHS[c[0]], DEPTHS[c[1]], (0.01, 0.05, 0.1)[c[2]]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4096, 64, generator=g)
    y = (x[:, :8].sum(1) > 0).long()
    layers, d = [], 64
    for _ in range(depth):
        layers += [torch.nn.Linear(d, width), torch.nn.ReLU()]
        d = width
    model = torch.nn.Sequential(*layers, torch.nn.Linear(d, 2))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for step in range(STEPS):
        batch = slice((step * 256) % 4096, (step * 256) % 4096 + 256)
        loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    return {"accuracy": acc}


def instant(c) -> dict:
    return {"score": float(sum(c))}


def training_problem() -> Problem:
    return Problem(
        DiscreteSpace([len(WIDTHS), len(DEPTHS), 3]),
        train_mlp,
        ["max:accuracy"],
        candidates_as="indices",
    )


def evals_per_minute(pool: ProcessPool, evals: int, seed: int) -> float:
    start = time.perf_counter()
    result = minimize(training_problem(), make_strategy("random"), evals, seed, executor=pool)
    assert len(result.history) == evals
    return 60.0 * evals / (time.perf_counter() - start)


def throughput(rounds: int, evals: int) -> dict:
    pools = {1: ProcessPool(1), 2: ProcessPool(2)}
    try:
        for n, pool in pools.items():  # warm: processes started, torch imported
            pool.bind(training_problem())
            evals_per_minute(pool, n, seed=99)
        rates: dict[int, list[float]] = {1: [], 2: []}
        loads = []
        for r in range(rounds):
            order = (1, 2) if r % 2 == 0 else (2, 1)
            for n in order:
                loads.append(os.getloadavg()[0])
                rates[n].append(evals_per_minute(pools[n], evals, seed=r))
    finally:
        for pool in pools.values():
            pool.close()
    ratios = [b / a for a, b in zip(rates[1], rates[2], strict=True)]
    return {
        "evals_per_round": evals,
        "evals_per_minute_1_worker": rates[1],
        "evals_per_minute_2_workers": rates[2],
        "ratio_per_round": ratios,
        "ratio_median": statistics.median(ratios),
        "load_average_1min_at_each_run": loads,
        "target_ratio": 1.8,
    }


def per_eval_seconds(executor, n: int) -> list[float]:
    problem = Problem(DiscreteSpace([5] * 4), instant, ["max:score"], candidates_as="indices")
    executor.bind(problem)
    out = []
    for i in range(n):
        c = (i % 5, (i // 5) % 5, (i // 25) % 5, (i // 125) % 5)
        t = time.perf_counter()
        [task] = executor.wait([executor.submit(c)])
        executor.outcome(task)
        out.append(time.perf_counter() - t)
    return out


def overhead(n: int) -> dict:
    from nasfast.search.executors.ray_executor import RayExecutor, start_local_ray

    base = statistics.median(per_eval_seconds(InProcess(), n))
    out = {"in_process_ms": 1e3 * base}
    with ProcessPool(1) as pool:
        per_eval_seconds(pool, 20)
        out["process_pool_ms"] = 1e3 * (statistics.median(per_eval_seconds(pool, n)) - base)
    start_local_ray(num_cpus=2)
    with RayExecutor(1) as ray_ex:
        per_eval_seconds(ray_ex, 20)
        out["ray_ms"] = 1e3 * (statistics.median(per_eval_seconds(ray_ex, n)) - base)
    import ray

    ray.shutdown()
    out["evaluations"] = n
    out["target_ray_ms"] = 10.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--evals", type=int, default=12)
    ap.add_argument("--overhead-evals", type=int, default=300)
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    data = {
        "environment": environment(),
        "throughput": throughput(args.rounds, args.evals),
        "overhead": overhead(args.overhead_evals),
    }
    write_json(Path(args.out) / "executors.json", data)
    print(data["throughput"]["ratio_per_round"], data["overhead"])


if __name__ == "__main__":
    main()
