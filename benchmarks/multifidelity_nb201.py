"""Multi-fidelity search on NAS-Bench-201 at an equal budget of training epochs (a report).

    PYTHONPATH=. python benchmarks/multifidelity_nb201.py [--seeds 20] [--budget 20000]

The table gives every cell's validation accuracy after 12 and after 200 epochs (two separate
trainings), so a two-rung schedule is scored exactly: a look at 12 epochs costs 12 epochs, at 200
costs 200. Each strategy gets ``--budget`` epochs; it reports the 200-epoch accuracy of the best
cell it trained for 200 epochs. Baseline: regularized evolution on the 200-epoch accuracy
(``--budget / 200`` evaluations). Also shown: REA on the 12-epoch accuracy (the NAS-Bench-201
protocol; ``--budget / 12`` evaluations, its pick's 200-epoch accuracy reported, never trained
for 200 epochs in the search). One-sided Mann-Whitney U against REA-200 over seeds.

The ``+rea`` schedulers draw new candidates from regularized evolution told their 12-epoch
results; ``asha (uniform)`` samples uniformly. ``eta`` of each was chosen on seeds 100-109
(``--tune``) before the report's seeds 0..S-1 were run. Writes
``benchmarks/results/multifidelity_nb201.json``, ``.png`` and the summary ``multifidelity.md``
(with the Fashion-MNIST result when its report exists).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from nasfast._atomic import write_json
from nasfast.bench.environment import environment
from nasfast.search import Problem, make_strategy, minimize
from nasfast.search.multifidelity import make_scheduler, minimize_multifidelity, nb201_problem
from nasfast.tabular.protocol import make_benchmark, significance

# label -> (scheduler, its settings besides eta)
CONFIGS = {
    "asha+rea": ("asha", {"sampler": "rea"}),
    "sh+rea": ("sh", {"sampler": "rea"}),
    "hyperband+rea": ("hyperband", {"sampler": "rea"}),
    "bohb": ("bohb", {}),
    "asha (uniform)": ("asha", {}),
}
ETAS = (3, 10, 20)
DEFAULT_ETA = dict.fromkeys(CONFIGS, 10)


def run_scheduler(label: str, eta: float, seed: int, budget: float) -> tuple[float, list]:
    name, kwargs = CONFIGS[label]
    sched = make_scheduler(name, eta=eta, **kwargs)
    res = minimize_multifidelity(nb201_problem(), sched, budget, seed=seed)
    units, best = res.incumbent_trace()
    return res.best.metrics["final_acc"], list(zip(units.tolist(), best.tolist(), strict=True))


def run_rea(fidelity: int, seed: int, budget: float) -> tuple[float, list]:
    bench = make_benchmark("cifar10", ["accuracy"], fidelity)
    n = int(budget // fidelity)
    res = minimize(Problem.from_benchmark(bench), make_strategy("rea"), n, seed=seed)
    trace, best = [], -np.inf
    for e in res.history:
        if fidelity == 200:
            best = max(best, e.metrics["final_acc"])
            trace.append((200.0 * e.step, best))
    if fidelity != 200:  # its pick is known only at the end (never trained to 200 in the search)
        trace = [(fidelity * res.n_evals, res.best.metrics["final_acc"])]
    return res.best.metrics["final_acc"], trace


def curve_on_grid(traces: list[list], grid: np.ndarray) -> np.ndarray:
    """Mean over seeds of the incumbent's 200-epoch accuracy after each number of epochs."""
    out = np.full((len(traces), len(grid)), np.nan)
    for i, tr in enumerate(traces):
        for units, acc in tr:
            out[i, grid >= units] = acc
    with warnings.catch_warnings():  # before a seed's first full evaluation: nan
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(out, axis=0)


def tune(budget: float) -> dict:
    seeds = range(100, 110)
    chosen = {}
    for label in CONFIGS:
        means = {e: np.mean([run_scheduler(label, e, s, budget)[0] for s in seeds]) for e in ETAS}
        chosen[label] = max(means, key=means.get)
        print(f"tune {label}: " + ", ".join(f"eta {e}: {m:.3f}" for e, m in means.items()))
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budget", type=float, default=20000)
    ap.add_argument("--tune", action="store_true", help="choose eta on seeds 100-109 first")
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument(
        "--summary-only", action="store_true", help="rewrite multifidelity.md from the JSONs"
    )
    args = ap.parse_args()
    if args.summary_only:
        out = Path(args.out)
        res = json.loads((out / "multifidelity_nb201.json").read_text())
        (out / "multifidelity.md").write_text(summary_md(res, out))
        return
    etas = tune(args.budget) if args.tune else DEFAULT_ETA
    seeds = list(range(args.seeds))
    rows: dict[str, dict] = {}
    for label, fn in [
        ("rea-200", lambda s: run_rea(200, s, args.budget)),
        ("rea-12", lambda s: run_rea(12, s, args.budget)),
        *[
            (f"{c} (eta {etas[c]})", lambda s, c=c: run_scheduler(c, etas[c], s, args.budget))
            for c in CONFIGS
        ],
    ]:
        out = [fn(s) for s in seeds]
        acc = np.array([a for a, _ in out])
        rows[label] = {
            "final_acc": acc.tolist(),
            "mean": float(acc.mean()),
            "std": float(acc.std(ddof=1)),
            "traces": [t for _, t in out],
        }
        print(f"{label:20s} {acc.mean():.3f} +- {acc.std(ddof=1):.3f}", flush=True)
    base = np.array(rows["rea-200"]["final_acc"])
    for label, row in rows.items():
        if label != "rea-200":
            row.update(significance(np.array(row["final_acc"]), base))
    grid = np.linspace(0, args.budget, 41)
    for row in rows.values():
        row["curve"] = curve_on_grid(row.pop("traces"), grid).tolist()
    _, optimum = make_benchmark("cifar10", ["accuracy"], 200).table.best("acc200_val_c10valid")
    res = {
        "environment": environment(),
        "command": "PYTHONPATH=. python " + " ".join(sys.argv),
        "budget_epochs": args.budget,
        "seeds": seeds,
        "eta": etas,
        "optimum": optimum,
        "grid_epochs": grid.tolist(),
        "rows": rows,
    }
    out = Path(args.out)
    write_json(out / "multifidelity_nb201.json", res)
    plot(res, out / "multifidelity_nb201.png")
    (out / "multifidelity.md").write_text(summary_md(res, out))
    print((out / "multifidelity.md").read_text())


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    for label, row in res["rows"].items():
        if label == "rea-12":
            continue
        ax.plot(res["grid_epochs"], row["curve"], label=label)
    ax.axhline(res["optimum"], color="grey", lw=0.8, ls="--", label="table optimum")
    ax.set_xlabel("training epochs spent")
    ax.set_ylabel("200-epoch accuracy of the incumbent (%)")
    ax.set_ylim(88.5, res["optimum"] + 0.2)
    ax.set_title(f"NAS-Bench-201 cifar10-valid, mean of {len(res['seeds'])} seeds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def summary_md(res: dict, out: Path) -> str:
    lines = [
        "# Multi-fidelity search",
        "",
        "## NAS-Bench-201 (exact): equal budget of training epochs",
        "",
        f"Budget {res['budget_epochs']:.0f} epochs per run, {len(res['seeds'])} seeds, "
        f"cifar10-valid; commit {res['environment']['commit']}. Rerun: `{res['command']}`.",
        "Reported: the 200-epoch validation accuracy of the best cell found (table optimum "
        f"{res['optimum']:.2f}). p: one-sided Mann-Whitney U against REA on 200-epoch accuracy.",
        "",
        "| strategy | 200-epoch acc. (mean +- std) | p vs rea-200 |",
        "| --- | --- | --- |",
    ]
    for label, row in res["rows"].items():
        p = row.get("mannwhitney_p")
        lines.append(
            f"| {label} | {row['mean']:.2f} +- {row['std']:.2f} | "
            f"{'-' if p is None else f'{p:.2g}'} |"
        )
    lines += [
        "",
        "Accuracy reached vs epochs spent: `multifidelity_nb201.png` (values in the JSON).",
        "rea-12 searches the 12-epoch accuracy (NAS-Bench-201's protocol) and never trains its "
        "pick for 200 epochs; it is shown for scale.",
    ]
    fm = out / "multifidelity_fashion_mnist.md"
    if fm.exists():
        body = fm.read_text().split("\n", 1)[1]
        lines += ["", "## Fashion-MNIST, real training: early stopping by extrapolated curve", body]
    lcdb = out / "curves_lcdb.md"
    if lcdb.exists():
        lines += ["", "Learning-curve extrapolation itself: see `curves_lcdb.md`."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
