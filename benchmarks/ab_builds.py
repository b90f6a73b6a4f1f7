"""Two builds of nasfast compared on ``nasfast bench`` cases, processes alternated.

Two builds of the same op cannot live in one process (both register ``torch.ops.nasfast``), so
each run of ``nasfast bench`` times one build's fused op against the pure-PyTorch baseline in
one process (interleaved rounds), and runs alternate A, B, A, B, ... On this shared, noisy
host the per-run ratio baseline/fused is the comparable number: it divides out how busy the
machine was during that run. The summary gives, per case, the median ratio of each build and
B's ratio over A's (1.0 = same speed; above 1 = B faster), with the spread over runs.

    python benchmarks/ab_builds.py --a /path/to/old/checkout --b . --filter darts_edge \\
        --runs 4 --json benchmarks/results/ab.json

Each checkout needs its built extension (``nasfast/_C*.so``) in place.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def _bench(checkout: Path, args: argparse.Namespace) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        cmd = [sys.executable, "-m", "nasfast", "bench", "--json", str(out)]
        cmd += ["--filter", args.filter, "--threads", str(args.threads)]
        cmd += ["--rounds", str(args.rounds)] if args.rounds else []
        cmd += ["--quick"] if args.quick else []
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, cwd=checkout)
        data = json.loads(out.read_text())
    return data["results"] if isinstance(data, dict) else data


def _commit(checkout: Path, label: str | None) -> str:
    if label:
        return label
    r = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return r.stdout.strip() or "unknown"


def _summary(runs: dict[str, list[list[dict]]]) -> list[dict]:
    names = [m["name"] for m in runs["a"][0]]
    rows = []
    for name in names:
        ra = [m["ratio"] for run in runs["a"] for m in run if m["name"] == name]
        rb = [m["ratio"] for run in runs["b"] for m in run if m["name"] == name]
        pair = [b / a for a, b in zip(ra, rb, strict=True)]
        rows.append(
            {
                "name": name,
                "ratio_a": statistics.median(ra),
                "ratio_b": statistics.median(rb),
                "b_over_a": statistics.median(pair),
                "b_over_a_min": min(pair),
                "b_over_a_max": max(pair),
                "runs": len(pair),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", type=Path, required=True, help="checkout of build A (the old one)")
    p.add_argument("--b", type=Path, required=True, help="checkout of build B (the new one)")
    p.add_argument("--filter", default="darts_edge", help="nasfast bench --filter")
    p.add_argument("--runs", type=int, default=3, help="runs of each build, alternated")
    p.add_argument("--rounds", type=int, default=0, help="nasfast bench --rounds (0: default)")
    p.add_argument("--threads", type=int, default=2, help="nasfast bench --threads")
    p.add_argument("--quick", action="store_true", help="nasfast bench --quick")
    p.add_argument("--a-commit", help="commit of build A to record (default: its git HEAD)")
    p.add_argument("--b-commit", help="commit of build B to record (default: its git HEAD)")
    p.add_argument("--json", type=Path, help="write runs and summary here")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error(f"--runs: expected an int >= 1, got {args.runs}")
    runs: dict[str, list[list[dict]]] = {"a": [], "b": []}
    for i in range(args.runs):
        for key in ("a", "b") if i % 2 == 0 else ("b", "a"):
            runs[key].append(_bench(getattr(args, key), args))
    rows = _summary(runs)
    for r in rows:
        print(
            f"{r['name']:<40} A {r['ratio_a']:6.2f}x  B {r['ratio_b']:6.2f}x  "
            f"B/A {r['b_over_a']:.3f} [{r['b_over_a_min']:.3f}, {r['b_over_a_max']:.3f}]"
        )
    if args.json:
        import torch

        meta = {
            "machine": platform.node(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "a": {"path": str(args.a), "commit": _commit(args.a, args.a_commit)},
            "b": {"path": str(args.b), "commit": _commit(args.b, args.b_commit)},
            "filter": args.filter,
            "threads": args.threads,
        }
        args.json.write_text(json.dumps({"meta": meta, "summary": rows, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
