"""NAS-Bench-201 as an exact two-fidelity problem: 12-epoch and 200-epoch validation accuracy.

Both are separate training runs in the benchmark (the 12-epoch one has its own schedule), so the
fidelity does not continue: promoting a cell to 200 epochs costs 200 more epochs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nasfast.search.multifidelity.problem import Fidelity, MultiFidelityProblem
from nasfast.spaces.nb201 import NB201Space, ops_to_arch_str
from nasfast.tabular.nb201 import NB201Table, normalize_dataset

NB201_FIDELITY = Fidelity("epochs", 12, 200, levels=(12, 200), continues=False)


def nb201_problem(dataset: str = "cifar10", path: str | Path | None = None) -> MultiFidelityProblem:
    """``accuracy`` at 12 or 200 epochs for every cell; results also carry ``final_acc`` (the
    200-epoch accuracy the NAS-Bench-201 protocol reports) and the official ``index``."""
    ds = normalize_dataset(dataset)
    table = NB201Table.load(path)
    column = {b: table.resolve("accuracy", ds, b).column for b in (12, 200)}
    final = table.final_accuracy_column(ds)

    def objective(cands: Sequence[Sequence[int]], epochs: int) -> list[dict]:
        idx = table.indices_of(cands)
        acc, fin = table.columns[column[int(epochs)]][idx], table.columns[final][idx]
        return [
            {"accuracy": float(a), "final_acc": float(f), "index": int(i)}
            for a, f, i in zip(acc, fin, idx, strict=True)
        ]

    return MultiFidelityProblem(
        NB201Space(),
        objective,
        ["max:accuracy"],
        NB201_FIDELITY,
        batched=True,
        describe=ops_to_arch_str,
    )
