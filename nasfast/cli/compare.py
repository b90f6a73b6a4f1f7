"""``nasfast compare``: several strategies over seeds on NAS-Bench-201, with statistics.

Either runs the strategies (``--strategies random,rea,... --budget B --seeds S``) or reads the
``results.json`` of earlier ``nasfast search`` runs (``nasfast compare DIR [DIR ...]``). Prints the
200-epoch accuracy of the best found as mean +- std over seeds, a significance test of each
strategy against the baseline (Mann-Whitney U, one-sided, and Welch's t-test), and the published
NAS-Bench-201 rows beside ours, naming the metric of each.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare search strategies over seeds (NAS-Bench-201)")
    p.add_argument("dirs", nargs="*", help="folders with results.json from `nasfast search`")
    p.add_argument("--strategies", default="random,rea,reinforce,bo,local", help="to run")
    p.add_argument("--budget", default="200", help="evaluations per run (default 200)")
    p.add_argument("--seeds", default="20", help="seeds 0..S-1 per strategy (default 20)")
    p.add_argument("--dataset", default="cifar10", help="cifar10 | cifar100 | imagenet16")
    p.add_argument("--baseline", default="random", help="strategy tested against (default random)")
    p.add_argument("--table", default=None, help="path to another copy of nb201_merged.csv.gz")
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
    if args.dirs:
        groups: dict[str, list[dict[str, Any]]] = {}
        datasets, budgets = set(), set()
        for d in args.dirs:
            path = Path(d) / "results.json"
            if not path.is_file():
                raise FileNotFoundError(f"dirs: no results.json in {d}")
            data = json.loads(path.read_text())
            label = data.get("strategy", Path(d).name)
            if label in groups:
                label = f"{label} ({Path(d).name})"
            groups[label] = data["runs"]
            datasets.add(data.get("dataset", "cifar10"))
            budgets.add(data.get("budget"))
        if len(datasets) != 1:
            raise ValueError(f"dirs: results are on different data sets {sorted(datasets)}")
        return groups, datasets.pop(), max(b for b in budgets if b is not None)

    from nasfast.search import STRATEGIES
    from nasfast.search.loop import check_budget
    from nasfast.search.protocol import make_benchmark, run_protocol, run_to_dict

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
        results = run_protocol(bench, n, budget, seeds)
        groups[n] = [run_to_dict(bench, r) for r in results]
    return groups, bench.dataset, budget


def significance(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Is ``a`` above ``b``? One-sided Mann-Whitney U and Welch's t-test p-values."""
    import warnings

    from scipy import stats

    if np.allclose(a, a[0]) and np.allclose(b, b[0]) and np.isclose(a[0], b[0]):
        return {"mannwhitney_p": 1.0, "welch_p": 1.0}
    with warnings.catch_warnings():  # constant samples: scipy warns, the p-value is still defined
        warnings.simplefilter("ignore", RuntimeWarning)
        mw = stats.mannwhitneyu(a, b, alternative="greater")
        wt = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
    return {"mannwhitney_p": float(mw.pvalue), "welch_p": float(np.nan_to_num(wt.pvalue, nan=1.0))}


def run(args: argparse.Namespace) -> int:
    from nasfast.search.published import CAVEAT, CITATION, published_rows
    from nasfast.tabular.nb201 import normalize_dataset

    args.dataset = normalize_dataset(args.dataset)
    groups, dataset, budget = collect(args)
    base = args.baseline if args.baseline in groups else None
    rows = []
    for label, runs in groups.items():
        acc = np.array([r["final_acc"] for r in runs], dtype=float)
        row: dict[str, Any] = {
            "strategy": label,
            "seeds": len(acc),
            "mean": float(acc.mean()),
            "std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
            "final_acc": acc.tolist(),
        }
        if base is not None and label != base:
            b = np.array([r["final_acc"] for r in groups[base]], dtype=float)
            row.update(significance(acc, b))
        rows.append(row)

    print(
        f"NAS-Bench-201 {dataset}, {budget} evaluations per run; metric: 200-epoch validation "
        "accuracy (%) of the best architecture found by 12-epoch validation accuracy"
    )
    print(f"{'strategy':<22}{'seeds':>6}  {'mean +- std':>16}  {'p vs ' + str(base):>22}")
    for r in rows:
        p = ""
        if "mannwhitney_p" in r:
            p = f"MWU {r['mannwhitney_p']:.2g} / t {r['welch_p']:.2g}"
        print(f"{r['strategy']:<22}{r['seeds']:>6}  {r['mean']:>8.2f} +- {r['std']:<5.2f}  {p:>22}")
    print(
        f"published ({CITATION}; 500 runs each, 12-epoch search signal, time budget):"
        "\n  'valid' = 200-epoch validation accuracy (same metric as ours), "
        "'test' = 200-epoch test accuracy (the paper's headline)"
    )
    if CAVEAT[dataset]:
        print(f"  note: {CAVEAT[dataset]} (the paper searched on CIFAR-10 only)")
    print(f"{'method':<22}{'valid':>16}  {'test':>16}")
    for method, valid, test in published_rows(dataset):
        print(f"{method:<22}{valid:>16}  {test:>16}")

    if args.out:
        from nasfast.search.plots import plot_convergence
        from nasfast.search.protocol import incumbent_curves, write_json

        out = Path(args.out)
        write_json(
            out / "compare.json",
            {"dataset": dataset, "budget": budget, "baseline": base, "rows": rows},
        )
        plot_convergence(
            {label: incumbent_curves(runs) for label, runs in groups.items()},
            out / "compare.png",
            title=f"NAS-Bench-201 {dataset}: best found vs evaluations",
        )
        print(f"wrote {out / 'compare.json'} and {out / 'compare.png'}")
    return 0
