"""Several strategies over seeds on a user's table, scored as ``nasfast compare`` scores
NAS-Bench-201: the exact-front scores (several objectives) or the best value (one), and a
one-sided Mann-Whitney U test of each strategy against a baseline. A single-objective strategy
on several objectives searches their equal-weight Chebyshev scalarization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasfast.search import STRATEGIES, make_strategy
from nasfast.search.loop import check_budget
from nasfast.search.problem import Problem
from nasfast.search.scalarization import Scalarization
from nasfast.search.seeds import minimize_over_seeds
from nasfast.search.table import TableBenchmark
from nasfast.tabular.protocol import significance

FRONT_SCORES = ("hv_ratio", "pareto_share", "igd")


def compare_on_table(
    bench: TableBenchmark,
    strategies: Sequence[str],
    budget: int,
    seeds: Sequence[int],
    baseline: str | None = None,
) -> list[dict[str, Any]]:
    """One row per strategy: per-seed scores, their means, and p-values against ``baseline``.

    The tested score is the hypervolume ratio (several objectives) or the best value found
    (one objective); either way "greater is better" after the objective's direction."""
    check_budget(budget)
    for n in strategies:
        if n not in STRATEGIES:
            raise ValueError(f"strategies: unknown {n!r}; expected some of {', '.join(STRATEGIES)}")
    if len(seeds) < 1:
        raise ValueError("seeds: expected at least one seed")
    if baseline is not None and baseline not in strategies:
        raise ValueError(f"baseline: {baseline!r} is not among the strategies {list(strategies)}")
    rows = [_strategy_row(bench, n, budget, seeds) for n in strategies]
    if baseline is not None:
        base = next(r for r in rows if r["strategy"] == baseline)
        for r in rows:
            if r is not base and len(seeds) > 1:
                r.update(significance(np.array(r["tested"]), np.array(base["tested"])))
    return rows


def _strategy_row(
    bench: TableBenchmark, name: str, budget: int, seeds: Sequence[int]
) -> dict[str, Any]:
    fold = len(bench.objectives) > 1 and not STRATEGIES[name].multi_objective

    def problem() -> Problem:
        return bench.problem(scalarization=Scalarization("chebyshev") if fold else None)

    results = minimize_over_seeds(problem, lambda: make_strategy(name), budget, seeds)
    row: dict[str, Any] = {"strategy": name, "seeds": len(results)}
    if len(bench.objectives) > 1:
        scores = [bench.score(r) for r in results]
        for k in FRONT_SCORES:
            row[k] = float(np.mean([s[k] for s in scores]))
        row["tested"] = [s["hv_ratio"] for s in scores]
    else:
        obj = bench.objectives[0]
        best = [r.best.metrics[obj.name] for r in results]
        row["best"] = float(np.mean(best))
        row["best_per_seed"] = best
        row["tested"] = [v if obj.maximize else -v for v in best]
    return row


def table_comparison_lines(
    bench: TableBenchmark, rows: list[dict[str, Any]], budget: int, baseline: str | None
) -> list[str]:
    """A header naming the metric, then one line per strategy."""
    multi = len(bench.objectives) > 1
    objs = ", ".join(f"{'max' if o.maximize else 'min'}:{o.name}" for o in bench.objectives)
    n = len(bench.rows)
    if multi:
        head = f"{'hv ratio':>9}  {'pareto share':>12}  {'IGD':>8}"
        what = "mean over seeds of the scores against the exact front (p tests hv ratio)"
    else:
        head = f"{'best ' + bench.objectives[0].name:>14}"
        what = "mean over seeds of the best value found"
    lines = [
        f"table of {n} rows ({objs}), {budget} evaluations per run; {what}",
        f"{'strategy':<12}{'seeds':>6}  {head}  {'MWU p vs ' + str(baseline):>18}",
    ]
    for r in rows:
        p = f"{r['mannwhitney_p']:.2g}" if "mannwhitney_p" in r else ""
        if multi:
            vals = f"{r['hv_ratio']:>9.4f}  {r['pareto_share']:>12.3f}  {r['igd']:>8.4f}"
        else:
            vals = f"{r['best']:>14.4g}"
        lines.append(f"{r['strategy']:<12}{r['seeds']:>6}  {vals}  {p:>18}")
    return lines
