"""Strategies compared over seeds on NAS-Bench-201: the 200-epoch accuracy of the best found
(mean +- std), a significance test against a baseline, and the published rows beside ours."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasfast._atomic import write_json
from nasfast.tabular.protocol import incumbent_curves, significance
from nasfast.tabular.published import CAVEAT, CITATION, published_rows

Runs = list[dict[str, Any]]  # results.json 'runs' entries


# What must agree for runs to be one experiment (the search protocol of a results.json).
PROTOCOL = ("benchmark", "dataset", "budget", "objectives", "fidelity", "final_metric")


def read_results(dirs: Sequence[str | Path]) -> tuple[dict[str, Runs], str, int]:
    """strategy -> runs from the results.json of earlier searches, their data set and budget.

    Runs with another protocol (budget, objectives, fidelity, data set...) are refused: a
    p-value between them would compare different experiments."""
    groups: dict[str, Runs] = {}
    first: dict[str, Any] | None = None
    first_dir = None
    for d in dirs:
        path = Path(d) / "results.json"
        if not path.is_file():
            raise FileNotFoundError(f"dirs: no results.json in {d}")
        try:
            data = json.loads(path.read_text())
        except ValueError:
            raise ValueError(f"dirs: {path} is not valid JSON") from None
        protocol = {k: data.get(k) for k in PROTOCOL}
        if first is None:
            first, first_dir = protocol, d
        for k in PROTOCOL:
            if protocol[k] != first[k]:
                raise ValueError(
                    f"dirs: {d} ran with {k}={protocol[k]!r}, {first_dir} with {first[k]!r}; "
                    "compare runs of one protocol"
                )
        label = data.get("strategy", Path(d).name)
        if label in groups:
            label = f"{label} ({Path(d).name})"
        groups[label] = data["runs"]
    assert first is not None
    return groups, first["dataset"] or "cifar10", first["budget"]


def compare_rows(groups: dict[str, Runs], baseline: str | None) -> list[dict[str, Any]]:
    """One row per strategy: final accuracies, mean, std, p-values against ``baseline``."""
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
        if baseline is not None and label != baseline:
            b = np.array([r["final_acc"] for r in groups[baseline]], dtype=float)
            row.update(significance(acc, b))
        rows.append(row)
    return rows


def comparison_lines(
    rows: list[dict[str, Any]], dataset: str, budget: int, baseline: str | None
) -> list[str]:
    """Our rows, then the published ones, each naming its metric."""
    lines = [
        f"NAS-Bench-201 {dataset}, {budget} evaluations per run; metric: 200-epoch validation "
        "accuracy (%) of the best architecture found by 12-epoch validation accuracy",
        f"{'strategy':<22}{'seeds':>6}  {'mean +- std':>16}  {'p vs ' + str(baseline):>22}",
    ]
    for r in rows:
        p = ""
        if "mannwhitney_p" in r:
            p = f"MWU {r['mannwhitney_p']:.2g} / t {r['welch_p']:.2g}"
        lines.append(
            f"{r['strategy']:<22}{r['seeds']:>6}  {r['mean']:>8.2f} +- {r['std']:<5.2f}  {p:>22}"
        )
    lines.append(
        f"published ({CITATION}; 500 runs each, 12-epoch search signal, time budget):"
        "\n  'valid' = 200-epoch validation accuracy (same metric as ours), "
        "'test' = 200-epoch test accuracy (the paper's headline)"
    )
    if CAVEAT[dataset]:
        lines.append(f"  note: {CAVEAT[dataset]} (the paper searched on CIFAR-10 only)")
    lines.append(f"{'method':<22}{'valid':>16}  {'test':>16}")
    for method, valid, test in published_rows(dataset):
        lines.append(f"{method:<22}{valid:>16}  {test:>16}")
    return lines


def write_comparison(
    out: str | Path,
    groups: dict[str, Runs],
    rows: list[dict[str, Any]],
    dataset: str,
    budget: int,
    baseline: str | None,
) -> str:
    """compare.json and compare.png (incumbent curves) under ``out``; the line to print."""
    from nasfast.plots import plot_convergence

    out = Path(out)
    write_json(
        out / "compare.json",
        {"dataset": dataset, "budget": budget, "baseline": baseline, "rows": rows},
    )
    plot_convergence(
        {label: incumbent_curves(runs) for label, runs in groups.items()},
        out / "compare.png",
        title=f"NAS-Bench-201 {dataset}: best found vs evaluations",
    )
    return f"wrote {out / 'compare.json'} and {out / 'compare.png'}"
