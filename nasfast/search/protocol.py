"""The NAS-Bench-201 protocol: run a strategy over seeds, report the 200-epoch accuracy of the best
found, score multi-objective fronts against the exact one, and write results.json / front.json."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasfast._atomic import atomic_path
from nasfast.search import make_strategy, minimize
from nasfast.search.base import SearchResult
from nasfast.search.scalarise import Scalarisation
from nasfast.tabular.nb201 import NB201Benchmark


def make_benchmark(
    dataset: str = "cifar10",
    objectives: Sequence[str] = ("accuracy",),
    fidelity: int | str = "auto",
    path: str | None = None,
) -> NB201Benchmark:
    """``fidelity="auto"``: 12 epochs for one objective (the NAS-Bench-201 protocol), 200 for
    several (the front is scored against the exact front of the same metrics)."""
    if fidelity == "auto":
        fid = 12 if len(objectives) == 1 else 200
    else:
        try:
            fid = int(fidelity)
        except (TypeError, ValueError):
            raise ValueError(f"fidelity: expected auto, 12 or 200, got {fidelity!r}") from None
    from nasfast.hardware.objectives import add_nb201_columns, is_hardware_objective

    if any(is_hardware_objective(o) for o in objectives):
        from nasfast.tabular.nb201 import NB201Table, normalize_dataset

        add_nb201_columns(NB201Table.load(path), list(objectives), normalize_dataset(dataset))
    return NB201Benchmark(dataset, list(objectives), fid, path)


def run_to_dict(bench: NB201Benchmark, res: SearchResult) -> dict[str, Any]:
    """One run as results.json stores it (arch strings, metrics, incumbent trace)."""
    best = res.best
    history = []
    for e, inc in zip(res.history, res.incumbents(), strict=True):
        row = {"step": e.step, "arch": bench.space.describe(e.candidate)}
        row.update({k: v for k, v in e.metrics.items()})
        row["incumbent_final_acc"] = inc.metrics["final_acc"]
        history.append(row)
    return {
        "seed": res.seed,
        "best_arch": bench.space.describe(best.candidate),
        "best_index": best.metrics["index"],
        "final_acc": best.metrics["final_acc"],
        "search_metrics": {n: best.metrics[n] for n in bench.objective_names},
        "n_evals": res.n_evals,
        "stopped": res.stopped,
        "history": history,
    }


def front_to_dict(bench: NB201Benchmark, res: SearchResult, ref: np.ndarray) -> dict[str, Any]:
    front = res.front()
    score = bench.score_front([e.metrics["index"] for e in res.history], ref)
    return {
        "seed": res.seed,
        "front": [
            {"arch": bench.space.describe(e.candidate), "index": e.metrics["index"]}
            | {n: e.metrics[n] for n in bench.objective_names}
            for e in front
        ],
        **score,
    }


def exact_front_rows(bench: NB201Benchmark) -> list[dict[str, Any]]:
    M = bench.objective_matrix()
    rows = []
    for i in bench.exact_front():
        row = {"arch": bench.table.arch_strs[i], "index": int(i)}
        row.update({n: float(M[i, k]) for k, n in enumerate(bench.objective_names)})
        rows.append(row)
    return sorted(rows, key=lambda r: [r[n] for n in bench.objective_names])


def run_protocol(
    bench: NB201Benchmark,
    strategy: str,
    budget: int,
    seeds: Sequence[int],
    *,
    strategy_kwargs: dict[str, Any] | None = None,
    scalarisation: Scalarisation | None = None,
    progress: bool = False,
) -> list[SearchResult]:
    """``strategy`` on the benchmark once per seed."""
    out = []
    for seed in seeds:
        problem = bench.problem(scalarisation=scalarisation)
        strat = make_strategy(strategy, **(strategy_kwargs or {}))
        out.append(minimize(problem, strat, budget, seed=seed, progress=progress))
    return out


def incumbent_curves(runs: Sequence[dict[str, Any]]) -> np.ndarray:
    """(seeds, steps) incumbent 200-epoch accuracy, runs shorter than the longest padded."""
    n = max(len(r["history"]) for r in runs)
    C = np.full((len(runs), n), np.nan)
    for i, r in enumerate(runs):
        v = [h["incumbent_final_acc"] for h in r["history"]]
        C[i, : len(v)] = v
        C[i, len(v) :] = v[-1] if v else np.nan
    return C


def write_json(path: str | Path, obj: Any) -> None:
    """Write atomically (temporary file, then ``os.replace``)."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def parse_assignments(text: str | None, what: str) -> dict[str, float]:
    """``"accuracy=85,latency:raspi4=20"`` -> dict (ValueError naming ``what``)."""
    out: dict[str, float] = {}
    if not text:
        return out
    for part in text.split(","):
        name, sep, value = part.rpartition("=")
        if not sep or not name:
            raise ValueError(f"{what}: expected NAME=VALUE[,NAME=VALUE...], got {text!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not a number (in {text!r})") from None
    return out
