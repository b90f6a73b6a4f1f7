"""The NAS-Bench-201 protocol: report the 200-epoch accuracy of the best found by the search
signal, score multi-objective fronts against the table's exact front, as results.json stores them.

Runs come from ``nasfast.search`` (``minimize`` once per seed); this module reads them through
the small :class:`RunResult` interface, so the table never imports the search layer above it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from nasfast.spaces.discrete import Candidate
from nasfast.tabular.nb201 import NB201Benchmark


class Evaluated(Protocol):
    candidate: Candidate
    metrics: Mapping[str, Any]
    step: int


class RunResult(Protocol):
    """What a report reads of one search run (``nasfast.search.SearchResult`` is one)."""

    seed: int | None
    stopped: str

    @property
    def n_evals(self) -> int: ...

    @property
    def history(self) -> Sequence[Evaluated]: ...

    @property
    def best(self) -> Evaluated: ...

    def incumbents(self) -> Sequence[Evaluated]: ...

    def front(self) -> Sequence[Evaluated]: ...


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


def run_to_dict(bench: NB201Benchmark, res: RunResult) -> dict[str, Any]:
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


def front_to_dict(bench: NB201Benchmark, res: RunResult, ref: np.ndarray) -> dict[str, Any]:
    """The run's non-dominated cells and their score against the exact front."""
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


def incumbent_curves(runs: Sequence[dict[str, Any]]) -> np.ndarray:
    """(seeds, steps) incumbent 200-epoch accuracy, runs shorter than the longest padded."""
    n = max(len(r["history"]) for r in runs)
    C = np.full((len(runs), n), np.nan)
    for i, r in enumerate(runs):
        v = [h["incumbent_final_acc"] for h in r["history"]]
        C[i, : len(v)] = v
        C[i, len(v) :] = v[-1] if v else np.nan
    return C


def ref_in_units(bench: NB201Benchmark, ref: np.ndarray) -> dict[str, float]:
    """A normalized reference point back in each objective's own units."""
    out = {}
    for s, (lo, hi), r in zip(bench.specs, bench.bounds(), ref, strict=True):
        out[s.name] = float(hi - r * (hi - lo)) if s.maximize else float(lo + r * (hi - lo))
    return out


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
