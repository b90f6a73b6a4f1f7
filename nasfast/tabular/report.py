"""What a NAS-Bench-201 search writes and prints: results.json, front.json (several objectives),
convergence.png / front.png, and the summary lines (best found, front against the exact one)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasfast._atomic import write_json
from nasfast.tabular.nb201 import NB201Benchmark
from nasfast.tabular.protocol import (
    RunResult,
    exact_front_rows,
    front_to_dict,
    incumbent_curves,
    ref_in_units,
    run_to_dict,
)


def write_search_report(
    bench: NB201Benchmark,
    results: Sequence[RunResult],
    out: str | Path,
    *,
    strategy: str,
    strategy_kwargs: dict[str, Any],
    scalarization: str | None,
    budget: int,
    ref: np.ndarray,
    plots: bool = True,
    verbose: bool = True,
) -> str:
    """Write the run's files under ``out``; return the lines to print (``verbose``: one line per
    seed and the front table, else only the summaries)."""
    out = Path(out)
    runs = [run_to_dict(bench, r) for r in results]
    _, optimum = bench.table.best(bench.final_column)
    write_json(
        out / "results.json",
        {
            "benchmark": "nb201",
            "dataset": bench.dataset,
            "strategy": strategy,
            "strategy_kwargs": strategy_kwargs,
            "objectives": bench.objective_names,
            "fidelity": bench.fidelity,
            "final_metric": bench.final_column,
            "scalarization": scalarization,
            "budget": budget,
            "table_optimum": optimum,
            "runs": runs,
        },
    )
    lines = [_seed_line(r) for r in runs] if verbose else []
    title = f"{strategy} on nb201/{bench.dataset}"
    fronts: list[dict[str, Any]] = []
    exact: list[dict[str, Any]] = []
    if len(bench.objective_names) > 1:
        fronts = [front_to_dict(bench, r, ref) for r in results]
        exact = exact_front_rows(bench)
        lines += _write_fronts(bench, fronts, exact, ref, out, verbose)
        lines.append(_front_summary(bench, fronts, ref, f"{title} {bench.objective_names}", budget))
    finals = np.array([r["final_acc"] for r in runs])
    lines.append(
        f"{title}, {budget} evals, {len(runs)} seed(s): 200-epoch "
        f"accuracy of the best found {finals.mean():.2f} +- {finals.std():.2f} "
        f"(table optimum {optimum:.2f}); wrote {out / 'results.json'}"
    )
    if plots:
        _plot(bench, strategy, runs, fronts, exact, ref, optimum, out)
    return "\n".join(lines)


def _seed_line(run: dict[str, Any]) -> str:
    return (
        f"seed {run['seed']}: {run['best_arch']}  final_acc {run['final_acc']:.2f}  "
        f"({run['n_evals']} evals, {run['stopped']})"
    )


def _write_fronts(bench, fronts, exact, ref, out: Path, verbose: bool) -> list[str]:
    write_json(
        out / "front.json",
        {
            "objectives": bench.objective_names,
            "normalization": "each objective min-max over the whole table, minimized",
            "ref": ref_in_units(bench, ref),
            "front": fronts[0]["front"],
            "hypervolume": fronts[0]["hypervolume"],
            "hypervolume_exact": fronts[0]["hypervolume_exact"],
            "hv_ratio_mean": float(np.mean([f["hv_ratio"] for f in fronts])),
            "pareto_share_mean": float(np.mean([f["pareto_share"] for f in fronts])),
            "runs": fronts,
            "exact_front": exact,
        },
    )
    return front_table(bench, fronts[0], exact) if verbose else []


def _front_summary(bench, fronts, ref, title: str, budget: int) -> str:
    return (
        f"{title}, {budget} evals, {len(fronts)} seed(s): hypervolume "
        f"{np.mean([f['hv_ratio'] for f in fronts]):.4f} of the exact front, "
        f"{np.mean([f['pareto_share'] for f in fronts]) * 100:.1f}% of its "
        f"{fronts[0]['pareto_size']} Pareto-optimal cells found (ref {ref_in_units(bench, ref)})"
    )


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


def _plot(bench, strategy, runs, fronts, exact, ref, optimum: float, out: Path) -> None:
    from nasfast.plots import plot_convergence, plot_front

    plot_convergence(
        {strategy: incumbent_curves(runs)},
        out / "convergence.png",
        title=f"{strategy} on NAS-Bench-201 {bench.dataset}",
        optimum=optimum,
    )
    if not fronts:
        return
    names = bench.objective_names
    ylim = None
    if bench.specs[0].maximize:  # zoom on the part of the front the reference keeps
        ys = [p[names[0]] for p in exact]
        lo = ref_in_units(bench, ref)[names[0]]
        ylim = (max(min(ys), lo - 2.0) - 0.5, max(ys) + 0.5)
    idx = [h["index"] for h in runs[0]["history"]]
    plot_front(
        [(p[names[1]], p[names[0]]) for p in fronts[0]["front"]],
        [(p[names[1]], p[names[0]]) for p in exact],
        out / "front.png",
        xlabel=names[1],
        ylabel=names[0],
        evaluated=bench.objective_matrix()[idx][:, [1, 0]],
        title=f"{strategy}, seed {runs[0]['seed']}: found vs exact front",
        ylim=ylim,
    )
    if len(names) > 2:
        from nasfast.plots import plot_front_pairs

        plot_front_pairs(
            np.array([[p[n] for n in names] for p in fronts[0]["front"]]),
            np.array([[p[n] for n in names] for p in exact]),
            names,
            out / "front_pairs.png",
            evaluated=bench.objective_matrix()[idx],
            title=f"{strategy}, seed {runs[0]['seed']}: found vs exact front",
        )
