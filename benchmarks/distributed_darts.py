"""Data-parallel DARTS search steps per second: 2 processes x 1 thread vs 1 process x 1 thread
at the same global batch, on this machine's CPU.

Two gloo processes (``nasfast.distributed.run_local``: file store, loopback only) stay up for the
whole benchmark. Each round times ``--steps`` search steps of the one-process search (rank 0
alone, its own search outside the process group, while rank 1 waits at a barrier) and
``--steps`` steps of the two-process search (both ranks), alternating which goes first; the
ratio of the two rates is taken per round. Writes benchmarks/results/distributed_<date>_<commit>
.json with machine, torch version, commit and the machine's load average around each round.

    PYTHONPATH=. python benchmarks/distributed_darts.py --rounds 6 --steps 5
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch.distributed as dist

from nasfast.bench.environment import environment
from nasfast.darts.search import DartsSearch, SearchConfig
from nasfast.datasets import load_images
from nasfast.distributed import run_local

RESULTS = Path(__file__).resolve().parent / "results"


def _time_steps(search: DartsSearch, steps: int) -> tuple[float, float]:
    """(steps per second of wall time, CPU seconds of this process per step)."""
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        search._one_step(search.locate(search.step))
        search.step = (search.step + 1) % search.total_steps
    return steps / (time.perf_counter() - t0), (time.process_time() - c0) / steps


def _search(cfg: SearchConfig, data, one_process: bool) -> DartsSearch:
    s = DartsSearch(
        cfg, data, tempfile.mkdtemp(), progress=False, use_process_group=not one_process
    )
    s._enter_stage(0)
    s._one_step(s.locate(0))  # warm-up: first-call allocations and the buffer cache
    s.step = 1
    return s


def worker(
    rank: int, cfg: SearchConfig, rounds: int, steps: int, out: str, own_autogroup: bool
) -> None:
    if own_autogroup:
        os.setsid()  # a new session: Linux's autogroup scheduler gives it its own fair share
    data = load_images(cfg.dataset)
    single = _search(dataclasses.replace(cfg, batch_shards=1), data, True) if rank == 0 else None
    dist.barrier()
    pair = _search(cfg, data, False)
    rows = []
    for r in range(rounds):
        rate, cpu = {}, {}
        load_before = os.getloadavg()
        for mode in ("1x1", "2x1") if r % 2 == 0 else ("2x1", "1x1"):
            dist.barrier()
            if mode == "2x1":
                rate[mode], cpu[mode] = _time_steps(pair, steps)
            elif rank == 0:
                rate[mode], cpu[mode] = _time_steps(single, steps)
            dist.barrier()
        if rank == 0:
            row = {"round": r, "first": "1x1" if r % 2 == 0 else "2x1"}
            row.update({f"steps_per_s_{k}": round(v, 4) for k, v in rate.items()})
            row.update({f"rank0_cpu_s_per_step_{k}": round(v, 4) for k, v in cpu.items()})
            row["ratio"] = round(rate["2x1"] / rate["1x1"], 4)
            row["loadavg_1min_before_after"] = [load_before[0], os.getloadavg()[0]]
            rows.append(row)
            print(json.dumps(row), flush=True)
    if rank == 0:
        Path(out).write_text(json.dumps(rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--dataset", default="mnist-small")
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--layers", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32, help="global batch")
    p.add_argument("--order", default="first", choices=("first", "second"))
    p.add_argument("--tag", default="")
    p.add_argument(
        "--own-autogroups",
        action="store_true",
        help="each process in its own session: with the autogroup scheduler (Linux) processes "
        "of one session share one fair share, so on a loaded machine 2 processes of one launch "
        "get the CPU time of 1; this emulates a core per process",
    )
    args = p.parse_args()
    cfg = SearchConfig(
        dataset=args.dataset,
        channels=args.channels,
        layers=args.layers,
        batch_size=args.batch_size,
        order=args.order,
        epochs=1,
    )
    rows_file = tempfile.mktemp(suffix=".json")
    t0 = time.perf_counter()
    run_local(
        worker, cfg, args.rounds, args.steps, rows_file, args.own_autogroups, world=2, threads=1
    )
    rows = json.loads(Path(rows_file).read_text())
    os.remove(rows_file)
    ratios = [r["ratio"] for r in rows]
    env = environment()
    env["torch_threads"] = 1
    record = {
        "benchmark": "distributed_darts",
        "what": "DARTS search steps/s, 2 processes x 1 thread vs 1 process x 1 thread, "
        "same global batch (gloo, CPU)",
        "environment": env,
        "config": {
            "dataset": cfg.dataset,
            "channels": cfg.channels,
            "layers": cfg.layers,
            "global_batch": cfg.batch_size,
            "order": cfg.order,
            "backend": cfg.backend,
            "steps_per_round": args.steps,
            "own_autogroups": args.own_autogroups,
            "autogroup_scheduler": Path("/proc/sys/kernel/sched_autogroup_enabled")
            .read_text()
            .strip()
            if Path("/proc/sys/kernel/sched_autogroup_enabled").exists()
            else "n/a",
        },
        "rounds": rows,
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "target": 1.6,
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    date = datetime.date.today().isoformat()
    name = f"distributed_{date}_{env['commit']}{'_' + args.tag if args.tag else ''}.json"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(json.dumps(record, indent=1) + "\n")
    print(f"median ratio {record['ratio_median']:.3f} (min {min(ratios)}, max {max(ratios)});")
    print(f"wrote {RESULTS / name}")


if __name__ == "__main__":
    main()
