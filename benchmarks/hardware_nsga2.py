"""NSGA-II on NAS-Bench-201 over accuracy x latency on this host x inference memory (a report).

    PYTHONPATH=. python benchmarks/hardware_nsga2.py [--seeds 10] [--budget 500]

Objectives: 200-epoch cifar10-valid accuracy (tabular), ``latency:host`` (predicted from this
machine's profile, batch 1, one thread) and ``memory`` (analytic peak inference MB, batch 1); all
15,625 cells are scored, so the exact three-objective front is known. NSGA-II and random search,
same budget, over seeds: hypervolume ratio to the exact front (objectives min-max normalised over
the table, reference at the worst value of each) and the share of the exact Pareto set found,
with a one-sided Mann-Whitney U test (NSGA-II above random). Writes the JSON and a PNG of seed 0's
found front over the exact one (pairwise projections).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import scipy.stats
from nasfast.search.plots_pairs import plot_front_pairs

from nasfast.bench.environment import environment
from nasfast.tabular.protocol import front_to_dict, make_benchmark, run_protocol, write_json

OBJECTIVES = ["accuracy", "latency:host", "memory"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=int, default=500)
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    bench = make_benchmark("cifar10", OBJECTIVES, 200)
    ref = bench.reference_point()
    seeds = list(range(args.seeds))
    runs = {}
    for name, kw in (("nsga2", {"pop_size": 40}), ("random", {})):
        results = run_protocol(bench, name, args.budget, seeds, strategy_kwargs=kw)
        runs[name] = {"fronts": [front_to_dict(bench, r, ref) for r in results], "results": results}
    hv = {n: np.array([f["hv_ratio"] for f in r["fronts"]]) for n, r in runs.items()}
    share = {n: np.array([f["pareto_share"] for f in r["fronts"]]) for n, r in runs.items()}
    test = scipy.stats.mannwhitneyu(hv["nsga2"], hv["random"], alternative="greater")
    M = bench.objective_matrix()
    exact = bench.exact_front()
    first = runs["nsga2"]["results"][0]
    found = np.array([[e.metrics[n] for n in bench.objective_names] for e in first.front()])
    evaluated = M[[e.metrics["index"] for e in first.history]]
    out = Path(args.out)
    png = plot_front_pairs(
        found,
        M[exact],
        ["accuracy (%)", "latency on this host (ms)", "inference memory (MB)"],
        out / "hardware_nsga2_front.png",
        evaluated=evaluated,
        title=f"NSGA-II, {args.budget} evaluations, seed 0: found vs exact front "
        f"({len(exact)} cells)",
    )
    summary = {
        n: {
            "hv_ratio_mean": float(hv[n].mean()),
            "hv_ratio_std": float(hv[n].std()),
            "pareto_share_mean": float(share[n].mean()),
        }
        for n in runs
    }
    summary["mannwhitney_p_nsga2_above_random"] = float(test.pvalue)
    summary["exact_front_size"] = int(len(exact))
    print(summary)
    write_json(
        out / "hardware_nsga2.json",
        {
            "environment": environment(),
            "objectives": OBJECTIVES,
            "budget": args.budget,
            "seeds": seeds,
            "summary": summary,
            "runs": {n: r["fronts"] for n, r in runs.items()},
            "plot": str(png),
        },
    )


if __name__ == "__main__":
    main()
