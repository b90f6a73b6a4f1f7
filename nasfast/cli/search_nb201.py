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

import numpy as np

STRATEGY_HELP = {
    "random": "random search (uniform, no repeats)",
    "rea": "regularized evolution (Real et al. 2019)",
    "reinforce": "REINFORCE policy gradient",
    "bo": "Bayesian optimisation (Optuna TPE or GP)",
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
        "--scalarise",
        default=None,
        help="fold several objectives for a single-objective strategy: weighted|chebyshev|epsilon",
    )
    p.add_argument("--weights", default=None, help="scalarisation weights, e.g. 0.7,0.3")
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
    p.add_argument("--quiet", action="store_true", help="print only the summary line")


def add_strategy_arguments(p: argparse.ArgumentParser, name: str) -> None:
    if name == "rea":
        p.add_argument("--population", default="20", help="population size (default 20)")
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
            "population_size": _int(args.population, "--population", 2),
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


def scalarisation_of(args: argparse.Namespace, objectives: list[str]):
    from nasfast.search.protocol import parse_assignments
    from nasfast.search.scalarise import Scalarisation

    if args.scalarise is None:
        if args.weights or args.eps or args.primary:
            raise ValueError("--scalarise: give weighted, chebyshev or epsilon with those options")
        return None
    weights = None
    if args.weights:
        weights = [_float(w, "--weights") for w in args.weights.split(",")]
    return Scalarisation(
        args.scalarise,
        weights,
        primary=args.primary if args.primary else 0,
        eps=parse_assignments(args.eps, "--eps") or None,
    )


def run(args: argparse.Namespace) -> int:
    from nasfast.search.loop import check_budget

    if args.benchmark != "nb201":
        raise ValueError(f"--benchmark: expected nb201, got {args.benchmark!r}")
    budget = check_budget(_int(args.budget, "--budget", 1))
    objectives = [o.strip() for o in args.objectives.split(",") if o.strip()]
    seeds = seeds_of(args)
    kwargs = strategy_kwargs(args)
    from nasfast.search.protocol import make_benchmark

    bench = make_benchmark(args.dataset, objectives, args.fidelity, args.table)
    scal = scalarisation_of(args, objectives)
    if len(objectives) > 1 and scal is None and args.strategy_name not in ("nsga2", "random", "bo"):
        raise ValueError(
            f"--objectives: {args.strategy_name} is single-objective; give one objective or "
            "--scalarise weighted|chebyshev|epsilon"
        )
    if args.strategy_name == "nsga2" and "pop_size" not in kwargs:
        kwargs["pop_size"] = min(40, max(2, budget // 4))
    out = Path(args.out or f"runs/{args.strategy_name}-nb201")
    summary = search_and_write(bench, args.strategy_name, budget, seeds, kwargs, scal, args, out)
    print(summary)
    return 0


def search_and_write(bench, strategy, budget, seeds, kwargs, scal, args, out: Path) -> str:
    from nasfast.search.protocol import (
        exact_front_rows,
        front_to_dict,
        incumbent_curves,
        parse_assignments,
        run_protocol,
        run_to_dict,
        write_json,
    )

    ref = bench.reference_point(parse_assignments(args.ref, "--ref"))
    results = run_protocol(
        bench,
        strategy,
        budget,
        seeds,
        strategy_kwargs=kwargs,
        scalarisation=scal,
        progress=args.progress,
    )
    runs = [run_to_dict(bench, r) for r in results]
    _, optimum = bench.table.best(bench.final_column)
    write_json(
        out / "results.json",
        {
            "benchmark": "nb201",
            "dataset": bench.dataset,
            "strategy": strategy,
            "strategy_kwargs": kwargs,
            "objectives": bench.objective_names,
            "fidelity": bench.fidelity,
            "final_metric": bench.final_column,
            "scalarisation": None if scal is None else scal.describe(),
            "budget": budget,
            "table_optimum": optimum,
            "runs": runs,
        },
    )
    finals = np.array([r["final_acc"] for r in runs])
    lines = []
    if not args.quiet:
        for r in runs:
            lines.append(
                f"seed {r['seed']}: {r['best_arch']}  final_acc {r['final_acc']:.2f}  "
                f"({r['n_evals']} evals, {r['stopped']})"
            )
    multi = len(bench.objective_names) > 1
    if multi:
        fronts = [front_to_dict(bench, r, ref) for r in results]
        exact = exact_front_rows(bench)
        ref_units = _ref_in_units(bench, ref)
        write_json(
            out / "front.json",
            {
                "objectives": bench.objective_names,
                "normalisation": "each objective min-max over the whole table, minimised",
                "ref": ref_units,
                "front": fronts[0]["front"],
                "hypervolume": fronts[0]["hypervolume"],
                "hypervolume_exact": fronts[0]["hypervolume_exact"],
                "hv_ratio_mean": float(np.mean([f["hv_ratio"] for f in fronts])),
                "pareto_share_mean": float(np.mean([f["pareto_share"] for f in fronts])),
                "runs": fronts,
                "exact_front": exact,
            },
        )
        if not args.quiet:
            lines.extend(front_table(bench, fronts[0], exact))
        lines.append(
            f"{strategy} on nb201/{bench.dataset} {bench.objective_names}, {budget} evals, "
            f"{len(seeds)} seed(s): hypervolume {np.mean([f['hv_ratio'] for f in fronts]):.4f} "
            f"of the exact front, {np.mean([f['pareto_share'] for f in fronts]) * 100:.1f}% of "
            f"its {fronts[0]['pareto_size']} Pareto-optimal cells found (ref {ref_units})"
        )
    lines.append(
        f"{strategy} on nb201/{bench.dataset}, {budget} evals, {len(seeds)} seed(s): 200-epoch "
        f"accuracy of the best found {finals.mean():.2f} +- {finals.std():.2f} "
        f"(table optimum {optimum:.2f}); wrote {out / 'results.json'}"
    )
    if not args.no_plots:
        from nasfast.search.plots import plot_convergence, plot_front

        plot_convergence(
            {strategy: incumbent_curves(runs)},
            out / "convergence.png",
            title=f"{strategy} on NAS-Bench-201 {bench.dataset}",
            optimum=optimum,
        )
        if multi:
            names = bench.objective_names
            M = bench.objective_matrix()
            ylim = None
            if bench.specs[0].maximize:  # zoom on the part of the front the reference keeps
                ys = [p[names[0]] for p in exact]
                ylim = (max(min(ys), ref_units[names[0]] - 2.0) - 0.5, max(ys) + 0.5)
            idx = [h["index"] for h in runs[0]["history"]]
            plot_front(
                [(p[names[1]], p[names[0]]) for p in fronts[0]["front"]],
                [(p[names[1]], p[names[0]]) for p in exact],
                out / "front.png",
                xlabel=names[1],
                ylabel=names[0],
                evaluated=M[idx][:, [1, 0]],
                title=f"{strategy}, seed {runs[0]['seed']}: found vs exact front",
                ylim=ylim,
            )
    return "\n".join(lines)


def _ref_in_units(bench, ref: np.ndarray) -> dict[str, float]:
    out = {}
    for s, (lo, hi), r in zip(bench.specs, bench.bounds(), ref, strict=True):
        out[s.name] = float(hi - r * (hi - lo)) if s.maximize else float(lo + r * (hi - lo))
    return out


def front_table(bench, found: dict[str, Any], exact: list[dict[str, Any]]) -> list[str]:
    """Side by side: each exact Pareto-optimal cell, whether found; extra found points."""
    names = bench.objective_names
    found_idx = {p["index"] for p in found["front"]}
    exact_idx = {p["index"] for p in exact}
    head = "  ".join(f"{n:>16}" for n in names)
    lines = [f"exact front ({len(exact)} cells; * = found)   {head}"]
    for p in exact:
        mark = "*" if p["index"] in found_idx else " "
        vals = "  ".join(f"{p[n]:16.3f}" for n in names)
        lines.append(f"  {mark} index {p['index']:>5}                    {vals}")
    extra = [p for p in found["front"] if p["index"] not in exact_idx]
    extra.sort(key=lambda p: [p[n] for n in names])
    if extra:
        lines.append(f"found front points not on the exact front ({len(extra)}):")
        for p in extra:
            vals = "  ".join(f"{p[n]:16.3f}" for n in names)
            lines.append(f"    index {p['index']:>5}                    {vals}")
    return lines
