"""Any table of evaluated architectures as a benchmark: a search space over its choice columns,
an objective that looks rows up, and exact-front scoring (as nasfast scores NAS-Bench-201)."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasfast.pareto.scoring import score_against_exact
from nasfast.search.base import SearchResult
from nasfast.search.problem import Objective, Problem
from nasfast.spaces.discrete import Candidate, DiscreteSpace


def _columns(data: Any) -> dict[str, list[Any]]:
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            raise ValueError(f"data: no table at {path}")
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            raise ValueError(f"data: {path} has no rows")
        return {k: [r[k] for r in rows] for k in rows[0]}
    if hasattr(data, "to_dict"):  # a pandas DataFrame
        return {str(k): list(v) for k, v in data.to_dict("list").items()}
    if isinstance(data, Mapping):
        return {str(k): list(v) for k, v in data.items()}
    raise ValueError(f"data: expected a CSV path, a DataFrame or a dict of columns, got {data!r}")


class TableBenchmark:
    """Rows of a table (CSV path, DataFrame or dict of columns) as a searchable benchmark.

    Args:
        data: one row per evaluated candidate.
        choices: the columns that define a candidate (each becomes a position whose options are
            the column's distinct values); combinations absent from the table are invalid.
        objectives: ``"max:COLUMN"`` / ``"min:COLUMN"`` (or ``(column, "max")``).
    """

    def __init__(self, data: Any, choices: Sequence[str], objectives: Sequence[Any]) -> None:
        cols = _columns(data)
        missing = [c for c in choices if c not in cols]
        if not choices or missing:
            raise ValueError(f"choices: expected columns of the table, missing {missing}")
        self.objectives = [Objective.parse(o) for o in objectives]
        for o in self.objectives:
            if o.name not in cols:
                raise ValueError(f"objectives: {o.name!r} is not a column of the table")
        options = [sorted(set(cols[c]), key=_sort_key) for c in choices]
        pos = [{v: i for i, v in enumerate(opts)} for opts in options]
        n = len(cols[choices[0]])
        self.rows: dict[Candidate, int] = {}
        for r in range(n):
            self.rows.setdefault(tuple(p[cols[c][r]] for p, c in zip(pos, choices, strict=True)), r)
        self.values = np.array(
            [[float(cols[o.name][r]) for o in self.objectives] for r in range(n)]
        )
        self.space = DiscreteSpace(
            options, names=list(choices), constraints=self._present, candidates_as="indices"
        )

    def _present(self, c: Candidate) -> bool:
        return tuple(c) in self.rows

    def __call__(self, c: Candidate) -> dict[str, float]:
        row = self.values[self.rows[tuple(c)]]
        return {o.name: float(v) for o, v in zip(self.objectives, row, strict=True)}

    def problem(self, **kwargs: Any) -> Problem:
        return Problem(self.space, self, self.objectives, candidates_as="indices", **kwargs)

    def score(self, result: SearchResult, ref: Sequence[float] | None = None) -> dict[str, float]:
        """The run's evaluations against the exact front of the whole table (see
        :func:`nasfast.pareto.scoring.score_against_exact`)."""
        sign = np.array([-1.0 if o.maximize else 1.0 for o in self.objectives])
        found = [self.rows[tuple(e.candidate)] for e in result.history]
        r = None if ref is None else np.asarray(ref, dtype=float)
        return score_against_exact(np.asarray(found), self.values * sign, r)


def _sort_key(v: Any) -> tuple[int, Any]:
    try:
        return (0, float(v))
    except (TypeError, ValueError):
        return (1, str(v))
