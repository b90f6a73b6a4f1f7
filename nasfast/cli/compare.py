"""``nasfast compare``: several strategies over seeds on NAS-Bench-201, with statistics.

Either runs the strategies (``--strategies random,rea,... --budget B --seeds S``) or reads the
``results.json`` of earlier ``nasfast search`` runs (``nasfast compare DIR [DIR ...]``). Prints the
200-epoch accuracy of the best found as mean +- std over seeds, a significance test of each
strategy against the baseline (Mann-Whitney U, one-sided, and Welch's t-test), and the published
NAS-Bench-201 rows beside ours, naming the metric of each; ``--curve 25,50,100`` adds the mean
accuracy reached after that many evaluations. With ``--choices`` and ``--objectives``, ``--table``
is a user's CSV instead, scored against its own exact front.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare search strategies over seeds (NAS-Bench-201)")
    p.add_argument("dirs", nargs="*", help="folders with results.json from `nasfast search`")
    p.add_argument("--strategies", default="random,rea,reinforce,bo,local", help="to run")
    p.add_argument("--budget", default="200", help="evaluations per run (default 200)")
    p.add_argument("--seeds", default="20", help="seeds 0..S-1 per strategy (default 20)")
    p.add_argument("--dataset", default="cifar10", help="cifar10 | cifar100 | imagenet16")
    p.add_argument(
        "--baseline", default=None, help="strategy tested against (default: random, when compared)"
    )
    p.add_argument(
        "--table",
        default=None,
        help="another copy of nb201_merged.csv.gz, or (with --choices) a user's CSV",
    )
    p.add_argument("--choices", default=None, help="user table: columns that define a candidate")
    p.add_argument("--objectives", default=None, help="user table: e.g. max:acc,min:lat")
    p.add_argument("--curve", default=None, help="also print accuracy at these evaluations")
    p.add_argument("--out", default=None, help="write compare.json and compare.png here")
    p.set_defaults(func=run)


def _int(text: str, what: str, lo: int) -> int:
    try:
        v = int(text)
    except ValueError:
        raise ValueError(f"{what}: expected an integer, got {text!r}") from None
    if v < lo:
        raise ValueError(f"{what}: expected an integer >= {lo}, got {v}")
    return v


def collect(args: argparse.Namespace) -> tuple[dict[str, list[dict[str, Any]]], str, int]:
    """strategy -> runs (results.json 'runs' entries), data set, budget."""
    from nasfast.tabular.compare import read_results

    if args.dirs:
        return read_results(args.dirs)

    from nasfast.search import STRATEGIES, Problem, check_budget, make_strategy
    from nasfast.search.seeds import minimize_over_seeds
    from nasfast.tabular.protocol import make_benchmark, run_to_dict

    budget = check_budget(_int(args.budget, "--budget", 1))
    seeds = list(range(_int(args.seeds, "--seeds", 2)))
    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    for n in names:
        if n not in STRATEGIES:
            raise ValueError(
                f"--strategies: unknown {n!r}; expected some of {', '.join(STRATEGIES)}"
            )
    bench = make_benchmark(args.dataset, ["accuracy"], 12, args.table)
    groups = {}
    for n in names:
        results = minimize_over_seeds(
            lambda: Problem.from_benchmark(bench),
            lambda n=n: make_strategy(n),
            budget,
            seeds,
        )
        groups[n] = [run_to_dict(bench, r) for r in results]
    return groups, bench.dataset, budget


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def run_table(args: argparse.Namespace) -> int:
    from nasfast.search.table import TableBenchmark
    from nasfast.search.table_compare import compare_on_table, table_comparison_lines

    if args.table is None or args.objectives is None:
        raise ValueError("--table/--objectives: a user table needs both with --choices")
    if args.dirs or args.curve:
        raise ValueError("--choices: runs strategies on a table; no DIRS or --curve with it")
    if not Path(args.table).is_file():
        raise ValueError(f"--table: no file at {args.table}")
    budget = _int(args.budget, "--budget", 1)
    seeds = list(range(_int(args.seeds, "--seeds", 1)))
    names = _split(args.strategies)
    base = args.baseline or ("random" if "random" in names else None)
    bench = TableBenchmark(args.table, _split(args.choices), _split(args.objectives))
    rows = compare_on_table(bench, names, budget, seeds, base)
    print("\n".join(table_comparison_lines(bench, rows, budget, base)))
    return 0


def run(args: argparse.Namespace) -> int:
    if getattr(args, "choices", None) is not None:
        return run_table(args)
    from nasfast.tabular.compare import compare_rows, comparison_lines, write_comparison
    from nasfast.tabular.nb201 import normalize_dataset

    args.dataset = normalize_dataset(args.dataset)
    curve = getattr(args, "curve", None)
    if curve and not args.dirs:  # refuse bad checkpoints before the searches run
        from nasfast.tabular.curve import parse_checkpoints

        parse_checkpoints(curve, _int(args.budget, "--budget", 1))
    groups, dataset, budget = collect(args)
    if args.baseline is None:
        args.baseline = "random" if "random" in groups else None
    elif args.baseline not in groups:
        raise ValueError(
            f"--baseline: {args.baseline!r} is not among the compared strategies "
            f"({', '.join(groups)})"
        )
    base = args.baseline
    rows = compare_rows(groups, base)
    print("\n".join(comparison_lines(rows, dataset, budget, base)))
    if curve:
        from nasfast.tabular.curve import accuracy_at, curve_lines, parse_checkpoints

        points = parse_checkpoints(curve, budget)
        print("\n".join(curve_lines(accuracy_at(groups, points), points)))
    if args.out:
        print(write_comparison(args.out, groups, rows, dataset, budget, base))
    return 0
