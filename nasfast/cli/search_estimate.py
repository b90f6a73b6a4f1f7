"""``nasfast search bananas|naswot --benchmark nb201 ...``: predictor-guided search (BANANAS) and
training-free search (NASWOT-style), with the options of the other NAS-Bench-201 strategies."""

from __future__ import annotations

import argparse
from typing import Any

STRATEGY_HELP = {
    "bananas": "BANANAS: predictor ensemble + Thompson sampling (White et al. 2021)",
    "naswot": "training-free: rank sampled cells by a zero-cost proxy, evaluate the top",
}


def register(strategies: argparse._SubParsersAction) -> None:
    from nasfast.cli import search_nb201

    for name, help_ in STRATEGY_HELP.items():
        p = strategies.add_parser(name, help=f"{help_} on a tabular benchmark")
        search_nb201.add_common_arguments(p)
        add_strategy_arguments(p, name)
        p.set_defaults(
            func=search_nb201.run, strategy_name=name, strategy_kwargs_hook=strategy_kwargs
        )


def add_strategy_arguments(p: argparse.ArgumentParser, name: str) -> None:
    if name == "bananas":
        p.add_argument("--predictor", default="mlp", help="mlp (default), rf, gp, lgb, gcn")
        p.add_argument("--encoding", default="onehot", help="onehot (default), path, adjacency")
        p.add_argument("--acquisition", default="its", help="its (default), ucb or mean")
        p.add_argument("--initial", default="20", help="random cells before the predictor (20)")
        p.add_argument("--batch-size", default="5", help="cells picked per predictor fit (5)")
        p.add_argument("--candidates", default="200", help="mutations scored per fit (200)")
        p.add_argument(
            "--features",
            default="none",
            help="extra predictor features: none (default) or zc (the table's zero-cost numbers)",
        )
    else:
        p.add_argument("--proxy", default="params", help="params (default), flops or zen")
        p.add_argument("--samples", default="1000", help="cells scored by the proxy (1000)")
        p.add_argument("--top-k", default=None, help="most cells evaluated (default: the budget)")


def strategy_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    from nasfast.cli.search_nb201 import _int

    if args.strategy_name == "naswot":
        kw: dict[str, Any] = {"proxy": args.proxy, "n_samples": _int(args.samples, "--samples", 1)}
        if args.top_k is not None:
            kw["top_k"] = _int(args.top_k, "--top-k", 1)
        return kw
    if args.features not in ("none", "zc"):
        raise ValueError(f"--features: expected none or zc, got {args.features!r}")
    kw = {
        "predictor": args.predictor,
        "encoding": args.encoding,
        "acquisition": args.acquisition,
        "n_initial": _int(args.initial, "--initial", 2),
        "batch_size": _int(args.batch_size, "--batch-size", 1),
        "n_candidates": _int(args.candidates, "--candidates", 1),
    }
    if args.features == "zc":
        kw["features"] = "zc"
    return kw
