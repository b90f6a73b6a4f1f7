"""What a hybrid search writes and prints: results.json, front.json (several objectives),
convergence.png / front.png, and the summary line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nasfast import pareto
from nasfast._atomic import write_json
from nasfast.oneshot.hybrid import HybridRun
from nasfast.spaces.nb201 import ops_to_arch_str


def write_hybrid_report(
    run: HybridRun, out: str | Path, *, plots: bool = True, verbose: bool = True
) -> str:
    """Write the run's files under ``out``; return the lines to print."""
    out = Path(out)
    c, result, objective = run.config, run.result, run.objective
    history, best_so_far = [], -1.0
    for e in result.history:
        best_so_far = max(best_so_far, e.metrics["accuracy"])
        row = {"step": e.step, "arch": ops_to_arch_str(e.candidate)}
        row.update({k: v for k, v in e.metrics.items() if k != "arch"})
        row["incumbent_accuracy"] = best_so_far
        history.append(row)
    front = [
        {"arch": ops_to_arch_str(e.candidate), "index": e.metrics["index"]}
        | {n: e.metrics[n] for n in c.objectives}
        | {"final_acc": e.metrics["final_acc"]}
        for e in result.front()
    ]
    hv = None
    if len(c.objectives) > 1:
        F = result.problem.normalized_F([e.metrics for e in result.front()])
        hv = pareto.hypervolume(F, [1.0] * len(c.objectives))
    write_json(out / "results.json", _results_body(run, history))
    if hv is not None:
        write_json(out / "front.json", _front_body(c.objectives, hv, front))
    if plots:
        _plot(run, history, out)
    lines = []
    if verbose and hv is not None:
        lines.append(
            f"front ({len(front)} cells): "
            + "; ".join(
                f"{p['arch']} " + " ".join(f"{n}={p[n]:.3g}" for n in c.objectives)
                for p in front[:8]
            )
        )
    best = result.best
    lines.append(
        f"hybrid-{c.algo} {c.objectives}, {result.n_evals} archs scored in {objective.calls} "
        f"batched calls ({objective.seconds:.1f} s; supernet training {run.train_seconds:.1f} s): "
        f"best {ops_to_arch_str(best.candidate)} supernet accuracy "
        f"{best.metrics['accuracy']:.2f}% (NB201 200-epoch {c.cost_dataset} accuracy "
        f"{best.metrics['final_acc']:.2f})"
        + (f", hypervolume {hv:.4f}" if hv is not None else "")
        + f"; wrote {out / 'results.json'}"
    )
    return "\n".join(lines)


def _results_body(run: HybridRun, history: list[dict[str, Any]]) -> dict[str, Any]:
    c, result, objective = run.config, run.result, run.objective
    best = result.best
    return {
        "search": "hybrid",
        "strategy": c.algo,
        "data": c.data or "default",
        "objectives": c.objectives,
        "cost_dataset": c.cost_dataset,
        "supernet": {
            "C": c.C,
            "N": c.N,
            "steps": c.steps,
            "paths": c.paths,
            "batch_size": c.batch_size,
            "lr": c.lr,
            "bn": c.bn,
            "final_loss": run.losses[-1] if run.losses else None,
        },
        "darts_alpha": None if run.alpha is None else run.alpha.tolist(),
        "budget": c.budget,
        "generation": c.generation,
        "seed": c.seed,
        "best_arch": ops_to_arch_str(best.candidate),
        "best_index": best.metrics["index"],
        "best": {k: v for k, v in best.metrics.items() if k != "arch"},
        "n_evals": result.n_evals,
        "stopped": result.stopped,
        "timing": {
            "train_s": run.train_seconds,
            "score_s": objective.seconds,
            "batched_calls": objective.calls,
            "archs_scored": objective.scored,
        },
        "history": history,
    }


def _front_body(objectives: list[str], hv: float, front: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "objectives": objectives,
        "normalization": "accuracy in [0, 100], costs min-max over the NB201 table; all minimized",
        "ref": [1.0] * len(objectives),
        "hypervolume": hv,
        "front": front,
    }


def _plot(run: HybridRun, history: list[dict[str, Any]], out: Path) -> None:
    from nasfast.plots import plot_convergence

    c = run.config
    curve = np.array([[h["incumbent_accuracy"] for h in history]])
    plot_convergence(
        {f"hybrid-{c.algo}": curve},
        out / "convergence.png",
        ylabel="supernet validation accuracy of the best found (%)",
        title="hybrid search over the NB201 supernet",
    )
    if len(c.objectives) == 2:
        _plot_front(run, out / "front.png")


def _plot_front(run: HybridRun, path: Path) -> None:
    from nasfast.plots import pyplot, save_figure

    plt = pyplot()
    cost, result = run.config.objectives[1], run.result
    E = np.array([[e.metrics[cost], e.metrics["accuracy"]] for e in result.history])
    Fr = np.array([[e.metrics[cost], e.metrics["accuracy"]] for e in result.front()])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.scatter(E[:, 0], E[:, 1], s=5, c="0.7", label="evaluated")
    order = np.argsort(Fr[:, 0])
    ax.plot(Fr[order, 0], Fr[order, 1], "-o", c="tab:red", ms=4, label="found front")
    ax.set_xlabel(cost)
    ax.set_ylabel("supernet validation accuracy (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path)
