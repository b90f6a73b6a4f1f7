"""``nasfast bench``: fused-vs-reference speed ratios, one process, interleaved."""

from __future__ import annotations

import argparse
import json
import os

from tqdm import tqdm

from nasfast.cli.common import add_threads_arg, set_threads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure fused-vs-reference speed ratios")
    p.add_argument("--quick", action="store_true", help="quick cases only, fewer rounds")
    p.add_argument("--json", metavar="PATH", help="also write the results (with machine) as JSON")
    p.add_argument("--filter", default="", help="only cases whose name or group contains this")
    p.add_argument("--rounds", type=int, default=None, help="paired rounds per case")
    add_threads_arg(p, "torch.set_num_threads before timing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from nasfast.bench import all_cases, measure
    from nasfast.bench.environment import environment

    set_threads(args.threads)
    rounds = args.rounds if args.rounds is not None else (10 if args.quick else 50)
    if rounds < 1:
        raise ValueError(f"--rounds: expected a positive count, got {rounds}")
    cases = [
        c
        for c in all_cases()
        if (c.quick or not args.quick)
        and (args.filter in c.name or args.filter in c.group)
        and (c.device == "cpu" or torch.cuda.is_available())
    ]
    if not cases:
        raise ValueError(f"--filter: no benchmark case matches {args.filter!r}")
    env = environment()
    print(f"# nasfast bench  torch {env['torch']}  threads {env['torch_threads']}  {env['cpu']}")
    results = []
    for case in tqdm(cases, desc="bench", unit="case", leave=False):
        results.append(measure(case, rounds=rounds, min_round_s=0.01 if args.quick else 0.02))
    print(format_table(results))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"environment": env, "results": [r.as_dict() for r in results]}, f, indent=2)
        print(f"wrote {args.json}")
    return 0


def format_table(results) -> str:
    head = (
        f"| {'case':<48} | {'ratio':>6} | {'IQR':>11} | {'fast ms':>9} | {'base ms':>9} | target |"
    )
    lines = [head, "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
    for r in results:
        target = f"{r.target:g}x" if r.target else ""
        lines.append(
            f"| {r.name:<48} | {r.ratio:>5.2f}x | {r.ratio_q25:>4.2f}-{r.ratio_q75:<4.2f}x |"
            f" {r.fast_ms:>9.3f} | {r.baseline_ms:>9.3f} | {target:>6} |"
        )
    return "\n".join(lines)
