"""``nasfast bench``: fused-vs-reference speed ratios, one process, interleaved."""

from __future__ import annotations

import argparse

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
    from nasfast.bench.environment import environment
    from nasfast.bench.suite import format_table, run_suite, select_cases, write_suite_json

    set_threads(args.threads)
    rounds = args.rounds if args.rounds is not None else (10 if args.quick else 50)
    cases = select_cases(args.quick, args.filter)
    env = environment()
    print(f"# nasfast bench  torch {env['torch']}  threads {env['torch_threads']}  {env['cpu']}")
    results = run_suite(cases, rounds, quick=args.quick)
    print(format_table(results))
    if args.json:
        write_suite_json(args.json, env, results)
        print(f"wrote {args.json}")
    return 0
