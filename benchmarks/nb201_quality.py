"""Search quality on NAS-Bench-201 (a report, not a timed test). Rerun:

    PYTHONPATH=. python benchmarks/nb201_quality.py [--seeds 20] [--out benchmarks/results]

1. NAS-Bench-201 protocol: each strategy searches the 12-epoch validation accuracy for 200
   evaluations; the 200-epoch cifar10-valid accuracy of the best found is reported (mean +- std over
   seeds), with one-sided Mann-Whitney U p-values against random search. Target: REA >= 91.0 and
   significantly above random search.
2. Multi-objective: NSGA-II for 1000 evaluations on (200-epoch accuracy, raspi4 latency), objectives
   normalized to [0, 1] over the whole table, reference point at 85% accuracy and the largest
   latency. Score: hypervolume of the found front / hypervolume of the exact front, and the share of
   the exact Pareto set found (mean over seeds). Target: >= 0.99 and >= 40%. Random sampling of the
   same budget is given for scale.

Writes ``nb201_quality.md`` and ``.json`` (replacing the last ones) with machine, torch version
and commit.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from nasfast._atomic import write_json
from nasfast.bench.environment import environment
from nasfast.search import Problem, make_strategy
from nasfast.search.seeds import minimize_over_seeds
from nasfast.tabular.protocol import make_benchmark, significance
from nasfast.tabular.published import CITATION, NB201_PUBLISHED

SO_STRATEGIES = ["random", "rea", "reinforce", "bo", "local"]
TUNING_NOTE = (
    "NSGA-II's defaults (population 40, 20 offspring per generation, one-gene mutation to an "
    "unseen neighbor, no crossover) were chosen on seeds 0-9 and checked on fresh seeds 100-119 "
    "(hv 0.9919, share 40.5%, optimum found in 95% of runs) before this report; REA, REINFORCE, "
    "BO and local search run with their defaults, untuned on this table."
)
PUBLISHED_NAME = {"random": "RS", "rea": "REA", "reinforce": "REINFORCE"}


def run_protocol(bench, name: str, budget: int, seeds: list[int], strategy_kwargs=None) -> list:
    return minimize_over_seeds(
        lambda: Problem.from_benchmark(bench),
        lambda: make_strategy(name, **(strategy_kwargs or {})),
        budget,
        seeds,
    )


def single_objective(seeds: list[int], budget: int, dataset: str) -> dict:
    bench = make_benchmark(dataset, ["accuracy"], 12)
    rows = {}
    for name in SO_STRATEGIES:
        t = time.perf_counter()
        results = run_protocol(bench, name, budget, seeds)
        acc = np.array([r.best.metrics["final_acc"] for r in results])
        rows[name] = {
            "final_acc": acc.tolist(),
            "mean": float(acc.mean()),
            "std": float(acc.std(ddof=1)),
            "seconds": time.perf_counter() - t,
        }
        print(f"  {name:<10} {acc.mean():.2f} +- {acc.std(ddof=1):.2f}", flush=True)
    base = np.array(rows["random"]["final_acc"])
    for name, row in rows.items():
        if name != "random":
            row.update(significance(np.array(row["final_acc"]), base))
    _, optimum = bench.table.best(bench.final_column)
    return {"dataset": bench.dataset, "budget": budget, "optimum": optimum, "rows": rows}


def multi_objective(seeds: list[int], budget: int, strategies: dict[str, dict]) -> dict:
    bench = make_benchmark("cifar10", ["accuracy", "latency:raspi4"], 200)
    ref = bench.reference_point({"accuracy": 85.0})
    out = {}
    for label, (name, kwargs) in strategies.items():
        t = time.perf_counter()
        results = run_protocol(bench, name, budget, seeds, strategy_kwargs=kwargs)
        scores = [bench.score_front([e.metrics["index"] for e in r.history], ref) for r in results]
        hv = np.array([s["hv_ratio"] for s in scores])
        share = np.array([s["pareto_share"] for s in scores])
        igd = np.array([s["igd"] for s in scores])
        out[label] = {
            "strategy": name,
            "kwargs": kwargs,
            "hv_ratio": hv.tolist(),
            "pareto_share": share.tolist(),
            "hv_ratio_mean": float(hv.mean()),
            "hv_ratio_std": float(hv.std(ddof=1)),
            "pareto_share_mean": float(share.mean()),
            "igd_mean": float(igd.mean()),
            "found_optimum": float(
                np.mean([1459 in {e.metrics["index"] for e in r.history} for r in results])
            ),
            "seconds": time.perf_counter() - t,
        }
        print(f"  {label:<24} hv {hv.mean():.4f} share {share.mean() * 100:.1f}%", flush=True)
    return {
        "objectives": bench.objective_names,
        "budget": budget,
        "ref": {"accuracy": 85.0, "latency:raspi4": float(bench.bounds()[1][1])},
        "exact_front_size": int(len(bench.exact_front())),
        "rows": out,
    }


def to_markdown(env: dict, so: dict, mo: dict, n_seeds: int) -> str:
    L = [f"# NAS-Bench-201 search quality ({env['date'][:10]})", ""]
    L.append(
        f"Machine: {env['cpu']} ({env['cpu_count']} cores), torch {env['torch']}, "
        f"nasfast {env['nasfast']}, commit {env['commit']}, python {env['python']}. "
        f"Rerun: `PYTHONPATH=. python benchmarks/nb201_quality.py --seeds {n_seeds}`."
    )
    L += ["", "## 1. Single objective, NAS-Bench-201 protocol", ""]
    L.append(
        f"Search signal: 12-epoch validation accuracy ({so['dataset']}); reported: 200-epoch "
        f"cifar10-valid validation accuracy of the best found; {so['budget']} evaluations of "
        f"distinct cells per run; {n_seeds} seeds; table optimum {so['optimum']:.2f}. "
        "p: one-sided Mann-Whitney U / Welch t against random search."
    )
    L += [
        "",
        "| strategy | mean +- std | p (MWU) | p (Welch) | published valid (test) |",
        "|---|---|---|---|---|",
    ]
    for name, r in so["rows"].items():
        pub = ""
        if name in PUBLISHED_NAME:
            vm, vs, tm, ts = NB201_PUBLISHED[PUBLISHED_NAME[name]][so["dataset"]]
            pub = f"{vm:.2f} +- {vs:.2f} ({tm:.2f} +- {ts:.2f})"
        p1 = f"{r['mannwhitney_p']:.2g}" if "mannwhitney_p" in r else "-"
        p2 = f"{r['welch_p']:.2g}" if "welch_p" in r else "-"
        L.append(f"| {name} | {r['mean']:.2f} +- {r['std']:.2f} | {p1} | {p2} | {pub} |")
    rea = so["rows"]["rea"]
    ok = rea["mean"] >= 91.0 and rea["mannwhitney_p"] < 0.05
    L += [
        "",
        "Target REA >= 91.0 and significantly above random search: "
        f"**{'met' if ok else 'NOT met'}** "
        f"(REA {rea['mean']:.2f}, p = {rea['mannwhitney_p']:.2g}).",
        "",
        f"Published rows: {CITATION}; 500 runs, a simulated time budget (not a count of "
        "evaluations); 'valid' is the same metric as ours, 'test' the paper's headline.",
        "",
        "## 2. Multi-objective: (200-epoch accuracy, raspi4 latency)",
        "",
        f"{mo['budget']} evaluations; objectives min-max normalized over the whole table; "
        f"reference point {mo['ref']}; exact Pareto set: {mo['exact_front_size']} cells. "
        "hv = hypervolume of the non-dominated set of everything evaluated / hypervolume of "
        "the exact front; share = exact Pareto-optimal cells found; 'optimum' = runs that "
        "found the most accurate cell (worth 1.4% of the hypervolume alone). "
        f"Mean over {n_seeds} seeds.",
        "",
        "| run | hv ratio (mean +- std) | share of exact Pareto set | IGD | found optimum |",
        "|---|---|---|---|---|",
    ]
    for label, r in mo["rows"].items():
        L.append(
            f"| {label} | {r['hv_ratio_mean']:.4f} +- {r['hv_ratio_std']:.4f} | "
            f"{r['pareto_share_mean'] * 100:.1f}% | {r['igd_mean']:.4f} | "
            f"{r['found_optimum'] * 100:.0f}% |"
        )
    ns = mo["rows"]["nsga2"]
    ok = ns["hv_ratio_mean"] >= 0.99 and ns["pareto_share_mean"] >= 0.40
    L += [
        "",
        f"Target NSGA-II hv >= 0.99 and share >= 40%: **{'met' if ok else 'NOT met'}** "
        f"(hv {ns['hv_ratio_mean']:.4f}, share {ns['pareto_share_mean'] * 100:.1f}%).",
        "",
        TUNING_NOTE,
        "",
    ]
    return "\n".join(L)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--mo-budget", type=int, default=1000)
    ap.add_argument("--dataset", default="cifar10")
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    seeds = list(range(args.seeds))
    env = environment()
    print("single objective:")
    so = single_objective(seeds, args.budget, args.dataset)
    print("multi-objective:")
    mo = multi_objective(
        seeds,
        args.mo_budget,
        {
            "nsga2": ("nsga2", {}),
            "nsga2 + UX crossover 0.5": ("nsga2", {"crossover_prob": 0.5}),
            "random sampling": ("random", {}),
        },
    )
    out = Path(args.out)
    write_json(
        out / "nb201_quality.json",
        {"environment": env, "single_objective": so, "multi_objective": mo},
    )
    md = to_markdown(env, so, mo, args.seeds)
    (out / "nb201_quality.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
