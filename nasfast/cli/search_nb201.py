"""``nasfast search {random,rea,reinforce,bo,local,nsga2} --benchmark nb201 ...``.

Searches the NAS-Bench-201 table shipped with nasfast (or ``--table PATH``). One objective
follows the NAS-Bench-201 protocol: search on 12-epoch validation accuracy, report the 200-epoch
accuracy of the best found. Several objectives (``accuracy,latency:raspi4``) search the 200-epoch
accuracy by default and score the found front against the exact front of the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

STRATEGY_HELP = {
    "random": "random search (uniform, no repeats)",
    "rea": "regularized evolution (Real et al. 2019)",
    "reinforce": "REINFORCE policy gradient",
    "bo": "Bayesian optimization (Optuna TPE or GP)",
    "local": "local search with random restarts",
    "nsga2": "NSGA-II (pymoo) with categorical operators",
}


def register(strategies: argparse._SubParsersAction) -> None:
    for name, help_ in STRATEGY_HELP.items():
        p = strategies.add_parser(name, help=f"{help_} on a tabular benchmark")
        add_common_arguments(p)
        add_strategy_arguments(p, name)
        p.set_defaults(func=run, strategy_name=name)


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--benchmark", default="nb201", help="tabular benchmark: nb201 (default)")
    p.add_argument("--dataset", default="cifar10", help="cifar10 | cifar100 | imagenet16")
    p.add_argument("--budget", default="200", help="evaluations per run (default 200)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--seeds", default=None, help="run seeds 0..S-1")
    g.add_argument("--seed", default=None, help="run this one seed (default 0)")
    p.add_argument(
        "--objectives",
        default="accuracy",
        help="comma-separated: accuracy, latency:DEVICE, params, flops, zen (default accuracy)",
    )
    p.add_argument(
        "--fidelity",
        default="auto",
        help="epochs of the searched accuracy: 12, 200 or auto (12 for one objective, else 200)",
    )
    p.add_argument(
        "--scalarize",
        default=None,
        help="fold several objectives for a single-objective strategy: weighted|chebyshev|epsilon",
    )
    p.add_argument("--scalarise", dest="scalarize", help=argparse.SUPPRESS)
    p.add_argument("--weights", default=None, help="scalarization weights, e.g. 0.7,0.3")
    p.add_argument("--eps", default=None, help="epsilon bounds, e.g. latency:raspi4=20")
    p.add_argument("--primary", default=None, help="epsilon-constraint objective (default first)")
    p.add_argument(
        "--ref",
        default=None,
        help="hypervolume reference, e.g. accuracy=85 (default: the worst value in the table)",
    )
    p.add_argument("--table", default=None, help="path to another copy of nb201_merged.csv.gz")
    p.add_argument("--out", default=None, help="output folder (default runs/<strategy>-nb201)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--progress", action="store_true", help="show a progress bar per run")
    p.add_argument(
        "--workers",
        default="1",
        help="evaluations at once: 1 in this process (default), N in a local process pool",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        help="evaluate on Ray: HOST:PORT or auto (an existing cluster), local (start one here)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the summary line")


def add_strategy_arguments(p: argparse.ArgumentParser, name: str) -> None:
    if name == "rea":
        p.add_argument(
            "--pop-size", dest="population", default="20", help="population size (default 20)"
        )
        p.add_argument("--population", dest="population", help=argparse.SUPPRESS)
        p.add_argument("--sample-size", default="5", help="tournament size (default 5)")
        p.add_argument("--crossover", default="0", help="uniform-crossover probability (default 0)")
    elif name == "reinforce":
        p.add_argument("--lr", default="0.05", help="Adam learning rate (default 0.05)")
    elif name == "bo":
        p.add_argument("--sampler", default="tpe", help="tpe (default) or gp")
    elif name == "nsga2":
        p.add_argument("--pop-size", default=None, help="population size (default 40)")
        p.add_argument("--n-offsprings", default=None, help="offspring per generation (pop/2)")
        p.add_argument("--crossover", default="0", help="uniform-crossover probability (default 0)")


def _int(text: Any, what: str, lo: int = 0) -> int:
    try:
        v = int(str(text))
    except ValueError:
        raise ValueError(f"{what}: expected an integer, got {text!r}") from None
    if v < lo:
        raise ValueError(f"{what}: expected an integer >= {lo}, got {v}")
    return v


def _float(text: Any, what: str) -> float:
    try:
        return float(str(text))
    except ValueError:
        raise ValueError(f"{what}: expected a number, got {text!r}") from None


def strategy_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    hook = getattr(args, "strategy_kwargs_hook", None)  # strategies added by other modules
    if hook is not None:
        return hook(args)
    name = args.strategy_name
    if name == "rea":
        return {
            "population_size": _int(args.population, "--pop-size", 2),
            "sample_size": _int(args.sample_size, "--sample-size", 1),
            "crossover_prob": _float(args.crossover, "--crossover"),
        }
    if name == "reinforce":
        return {"lr": _float(args.lr, "--lr")}
    if name == "bo":
        return {"sampler": args.sampler}
    if name == "nsga2":
        kw: dict[str, Any] = {"crossover_prob": _float(args.crossover, "--crossover")}
        if args.pop_size is not None:
            kw["pop_size"] = _int(args.pop_size, "--pop-size", 2)
        if args.n_offsprings is not None:
            kw["n_offsprings"] = _int(args.n_offsprings, "--n-offsprings", 1)
        return kw
    return {}


def seeds_of(args: argparse.Namespace) -> list[int]:
    if args.seeds is not None:
        return list(range(_int(args.seeds, "--seeds", 1)))
    return [_int(args.seed if args.seed is not None else 0, "--seed", 0)]


def parse_assignments(text: str | None, what: str) -> dict[str, float]:
    """``"accuracy=85,latency:raspi4=20"`` -> dict (ValueError naming ``what``)."""
    out: dict[str, float] = {}
    if not text:
        return out
    for part in text.split(","):
        name, sep, value = part.rpartition("=")
        if not sep or not name:
            raise ValueError(f"{what}: expected NAME=VALUE[,NAME=VALUE...], got {text!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not a number (in {text!r})") from None
    return out


def scalarization_of(args: argparse.Namespace):
    from nasfast.search import Scalarization

    if args.scalarize is None:
        if args.weights or args.eps or args.primary:
            raise ValueError("--scalarize: give weighted, chebyshev or epsilon with those options")
        return None
    weights = None
    if args.weights:
        weights = [_float(w, "--weights") for w in args.weights.split(",")]
    return Scalarization(
        args.scalarize,
        weights,
        primary=args.primary if args.primary else 0,
        eps=parse_assignments(args.eps, "--eps") or None,
    )


def run(args: argparse.Namespace) -> int:
    from nasfast.search import Problem, check_budget, make_strategy
    from nasfast.search.executors import make_executor
    from nasfast.search.seeds import minimize_over_seeds
    from nasfast.tabular.protocol import make_benchmark
    from nasfast.tabular.report import write_search_report

    if args.benchmark != "nb201":
        raise ValueError(f"--benchmark: expected nb201, got {args.benchmark!r}")
    budget = check_budget(_int(args.budget, "--budget", 1))
    objectives = [o.strip() for o in args.objectives.split(",") if o.strip()]
    seeds = seeds_of(args)
    kwargs = strategy_kwargs(args)
    bench = make_benchmark(args.dataset, objectives, args.fidelity, args.table)
    scal = scalarization_of(args)
    name = args.strategy_name
    if len(objectives) > 1 and scal is None and name not in ("nsga2", "random", "bo"):
        raise ValueError(
            f"--objectives: {name} is single-objective; give one objective or "
            "--scalarize weighted|chebyshev|epsilon"
        )
    if name == "nsga2" and "pop_size" not in kwargs:
        kwargs["pop_size"] = min(40, max(2, budget // 4))
    ref = bench.reference_point(parse_assignments(args.ref, "--ref"))
    workers = _int(args.workers, "--workers", 1)
    with make_executor(workers, args.ray_address) as executor:
        results = minimize_over_seeds(
            lambda: Problem.from_benchmark(bench, scal),
            lambda: make_strategy(name, **kwargs),
            budget,
            seeds,
            progress=args.progress,
            executor=executor,
        )
    summary = write_search_report(
        bench,
        results,
        Path(args.out or f"runs/{name}-nb201"),
        strategy=name,
        strategy_kwargs=kwargs,
        scalarization=None if scal is None else scal.describe(),
        budget=budget,
        ref=ref,
        plots=not args.no_plots,
        verbose=not args.quiet,
    )
    print(summary)
    return 0
