"""Predictor-guided and training-free search on NAS-Bench-201 (a report, not a timed test). Rerun:

    PYTHONPATH=. python benchmarks/predictors_search.py [--seeds 20]

The NAS-Bench-201 protocol of ``nb201_quality.py``: each run searches the 12-epoch validation
accuracy; reported is the 200-epoch cifar10-valid accuracy of the best found, over seeds 0..S-1.
Target: BANANAS at 100 evaluations >= REA at 200, and significantly above REA at 100 (one-sided
Mann-Whitney U). Writes ``predictors_search.json`` (replacing the last one; every run's incumbent
200-epoch accuracy at every 5th evaluation) and re-renders ``predictors.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy import stats

from nasfast._atomic import write_json
from nasfast.bench.environment import environment
from nasfast.search import Problem, make_strategy
from nasfast.search.seeds import minimize_over_seeds
from nasfast.tabular.protocol import make_benchmark, significance

# label -> (strategy, kwargs, budget)
RUNS = {
    "random @100": ("random", {}, 100),
    "rea @100": ("rea", {}, 100),
    "rea @200": ("rea", {}, 200),
    "local @100": ("local", {}, 100),
    "naswot params @100": ("naswot", {"proxy": "params"}, 100),
    "naswot zen @100": ("naswot", {"proxy": "zen"}, 100),
    "bananas @100": ("bananas", {}, 100),
}
CURVE_EVERY = 5  # incumbent curves are stored at every 5th evaluation
TUNING_NOTE = (
    "BANANAS' defaults (MLP ensemble of 5 on the one-hot encoding, independent Thompson sampling, "
    "20 random cells first, then 5 cells per fit picked among 200 one-position mutations of the "
    "10 best) were chosen on seeds 100-114, not on the seeds reported here: the path encoding, "
    "mutations of up to 2 positions, 10 random cells first, UCB, a random forest, and uniform "
    "samples in the candidate pool each did worse there (on 4 of those seeds, where the search "
    "settled on a second basin of the 12-epoch accuracy, one-hot 91.14, path 90.74-90.90, "
    "adjacency 90.71, UCB 90.72, random forest 90.82; mean over seeds 100-114 with the chosen "
    "defaults 91.27). The other strategies run with their defaults."
)


def run_all(seeds: list[int], only: set[str] | None) -> dict:
    bench = make_benchmark("cifar10", ["accuracy"], 12)
    rows = {}
    for label, (name, kwargs, budget) in RUNS.items():
        if only and label not in only:
            continue
        t = time.perf_counter()
        results = minimize_over_seeds(
            lambda: Problem.from_benchmark(bench),
            lambda name=name, kwargs=kwargs: make_strategy(name, **kwargs),
            budget,
            seeds,
        )
        acc = np.array([r.best.metrics["final_acc"] for r in results])
        steps = list(range(CURVE_EVERY, budget + 1, CURVE_EVERY))
        curves = [[r.incumbents()[k - 1].metrics["final_acc"] for k in steps] for r in results]
        rows[label] = {
            "strategy": name,
            "kwargs": kwargs,
            "budget": budget,
            "final_acc": acc.tolist(),
            "mean": float(acc.mean()),
            "std": float(acc.std(ddof=1)),
            "curve_steps": steps,
            "incumbent_curves": curves,
            "seconds": time.perf_counter() - t,
        }
        print(f"  {label:<22} {acc.mean():.2f} +- {acc.std(ddof=1):.2f}", flush=True)
    _, optimum = bench.table.best(bench.final_column)
    return {"dataset": bench.dataset, "optimum": optimum, "rows": rows}


def verdict(rows: dict) -> dict:
    b = np.array(rows["bananas @100"]["final_acc"])
    rea100 = np.array(rows["rea @100"]["final_acc"])
    rea200 = np.array(rows["rea @200"]["final_acc"])
    vs100 = significance(b, rea100)
    two_sided = stats.mannwhitneyu(b, rea200, alternative="two-sided").pvalue
    return {
        "bananas100_mean": float(b.mean()),
        "rea200_mean": float(rea200.mean()),
        "rea100_mean": float(rea100.mean()),
        "p_bananas100_gt_rea100": vs100["mannwhitney_p"],
        "p_bananas100_vs_rea200_two_sided": float(two_sided),
        "met": bool(b.mean() >= rea200.mean() and vs100["mannwhitney_p"] < 0.05),
    }


def search_section(s: dict) -> list[str]:
    from predictors_report import _env_line

    n = len(s["seeds"])
    L = ["## 2. Predictor-guided and training-free search on NAS-Bench-201", ""]
    L.append(_env_line(s["environment"], "PYTHONPATH=. python benchmarks/predictors_search.py"))
    L += [
        "",
        "NAS-Bench-201 protocol: search signal the 12-epoch validation accuracy (cifar10); "
        "reported the 200-epoch cifar10-valid accuracy of the best found; budget = distinct "
        f"cells evaluated; seeds 0-{n - 1}; table optimum {s['optimum']:.2f}. p: one-sided "
        "Mann-Whitney U against REA at 100 evaluations. naswot ranks 1000 sampled cells by a "
        "zero-cost number from the table (no training) and evaluates them best first.",
        "",
        "| run | mean +- std | p vs rea @100 | incumbent mean at 25 / 50 / 100 evals |",
        "|---|---|---|---|",
    ]
    rea = np.array(s["rows"]["rea @100"]["final_acc"])
    for label, r in s["rows"].items():
        p = (
            "-"
            if label.startswith("rea")
            else f"{significance(np.array(r['final_acc']), rea)['mannwhitney_p']:.2g}"
        )
        C = np.array(r["incumbent_curves"])
        at = {k: i for i, k in enumerate(r["curve_steps"])}
        marks = " / ".join(f"{C[:, at[k]].mean():.2f}" for k in (25, 50, 100) if k in at)
        L.append(f"| {label} | {r['mean']:.2f} +- {r['std']:.2f} | {p} | {marks} |")
    v = s.get("verdict")
    if v is None:
        return L + [""]
    L += [
        "",
        f"Target BANANAS @100 >= REA @200 ({v['rea200_mean']:.2f}) and significantly above REA "
        f"@100 ({v['rea100_mean']:.2f}): **{'met' if v['met'] else 'NOT met'}** (BANANAS @100 "
        f"{v['bananas100_mean']:.2f}, p = {v['p_bananas100_gt_rea100']:.2g} against REA @100; "
        f"two-sided p = {v['p_bananas100_vs_rea200_two_sided']:.2g} against REA @200).",
    ]
    if "local @100" in s["rows"]:
        b = np.array(s["rows"]["bananas @100"]["final_acc"])
        loc = s["rows"]["local @100"]
        p = stats.mannwhitneyu(b, np.array(loc["final_acc"]), alternative="two-sided").pvalue
        L.append(
            f"Local search without any predictor reaches {loc['mean']:.2f} at 100 evaluations on "
            f"this table (two-sided p = {p:.2g} against BANANAS): the predictor-guided search "
            "beats REA here, not local search."
        )
    L += ["", TUNING_NOTE, ""]
    return L


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--only", default=None, help="comma-separated run labels (a quick look)")
    args = ap.parse_args()
    seeds = list(range(args.seeds))
    env = environment()
    only = {s.strip() for s in args.only.split(",")} if args.only else None
    result = {"environment": env, "seeds": seeds, **run_all(seeds, only)}
    if {"bananas @100", "rea @100", "rea @200"} <= set(result["rows"]):
        result["verdict"] = verdict(result["rows"])
    out = Path(args.out)
    write_json(out / "predictors_search.json", result)
    from predictors_report import render

    print(render(out))


if __name__ == "__main__":
    main()
