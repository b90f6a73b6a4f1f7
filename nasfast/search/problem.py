"""A search problem: a discrete space, an objective callable, and which metrics to optimize."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from nasfast.search.scalarization import Scalarization
from nasfast.spaces.discrete import Candidate, DiscreteSpace

Metrics = dict[str, Any]


@dataclass(frozen=True)
class Failure:
    """An evaluation that did not produce finite metrics: the error, as one line."""

    error: str


def error_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class MetricSense(Protocol):
    name: str
    maximize: bool


class Benchmark(Protocol):
    """A batched objective that knows its space, metrics and their ranges
    (``nasfast.tabular.NB201Benchmark`` is one)."""

    space: DiscreteSpace
    specs: Sequence[MetricSense]

    def __call__(self, cands: Sequence[Candidate]) -> list[Metrics]: ...

    def bounds(self) -> list[tuple[float, float]]: ...


@dataclass(frozen=True)
class Objective:
    """One metric the search optimizes: its key in the objective's dict and its direction."""

    name: str
    maximize: bool = True

    @staticmethod
    def parse(spec: Objective | str | tuple[str, str | bool]) -> Objective:
        """``Objective``, ``"max:name"`` / ``"min:name"`` or ``(name, "max" | "min" | bool)``.

        A bare ``"name"`` is refused: the direction is always explicit (``nasfast.pareto``
        minimizes unless told otherwise, and a silent default here would disagree with it).
        """
        if isinstance(spec, Objective):
            return spec
        if isinstance(spec, str):
            sense, sep, name = spec.partition(":")
            if sep and sense in ("max", "min") and name:
                return Objective(name, sense == "max")
            raise ValueError(
                f"objectives: {spec!r} has no direction; write 'max:{spec}' or 'min:{spec}' "
                f"(or ({spec!r}, 'max'))"
            )
        if not isinstance(spec, (tuple, list)) or len(spec) != 2:
            raise ValueError(
                f"objectives: expected 'max:NAME', 'min:NAME' or (NAME, 'max'|'min'), got {spec!r}"
            )
        name, sense = spec
        if isinstance(sense, str):
            if sense not in ("max", "min"):
                raise ValueError(f"objectives: sense must be 'max' or 'min', got {sense!r}")
            return Objective(name, sense == "max")
        return Objective(name, bool(sense))


class Problem:
    """What a strategy searches: ``space``, ``objective`` and the metrics to optimize.

    Args:
        space: the discrete space candidates come from.
        objective: ``f(candidate) -> dict`` of metrics, or with ``batched=True``
            ``f(list_of_candidates) -> list_of_dicts`` (a whole generation at once).
        objectives: which keys of those dicts to optimize (see :meth:`Objective.parse`).
        batched: whether ``objective`` takes a list of candidates.
        describe: candidate -> readable string (default ``space.describe``).
        scalarization: folds several objectives into one for single-objective strategies.
        bounds: (min, max) per objective, for normalizing to [0, 1] (scalarization, reports).
        candidates_as: what ``objective`` receives: ``"values"`` (a named record of the option
            values) or ``"indices"``; default: the space's ``candidates_as``.

    An evaluation that raises, or returns a metric that is None, NaN or infinite, is a
    :class:`Failure` (recorded with its error); a metric missing from the result is a ValueError.
    """

    def __init__(
        self,
        space: DiscreteSpace,
        objective: Callable[..., Any],
        objectives: Sequence[Objective | str | tuple[str, str | bool]],
        *,
        batched: bool = False,
        describe: Callable[[Candidate], str] | None = None,
        scalarization: Scalarization | None = None,
        bounds: Sequence[tuple[float, float]] | None = None,
        candidates_as: str | None = None,
    ) -> None:
        if candidates_as not in (None, "values", "indices"):
            raise ValueError(
                f"candidates_as: expected 'values' or 'indices', got {candidates_as!r}"
            )
        if not isinstance(space, DiscreteSpace):
            raise ValueError(f"space: expected a DiscreteSpace, got {type(space).__name__}")
        if not callable(objective):
            raise ValueError("objective: expected a callable returning a dict of metrics")
        objs = [Objective.parse(o) for o in objectives]
        if not objs:
            raise ValueError("objectives: expected at least one metric name")
        if len({o.name for o in objs}) != len(objs):
            raise ValueError(f"objectives: duplicate names in {[o.name for o in objs]}")
        if bounds is not None:
            bounds = [(float(lo), float(hi)) for lo, hi in bounds]
            if len(bounds) != len(objs):
                raise ValueError(
                    f"bounds: expected {len(objs)} (min, max) pairs, got {len(bounds)}"
                )
        self.space = space
        self.objective = objective
        self.objectives = objs
        self.batched = batched
        self.describe = describe or space.describe
        self.bounds = bounds
        self.scalarization = scalarization
        self.candidates_as = candidates_as or space.candidates_as
        if scalarization is not None:
            scalarization.bind(self)

    @classmethod
    def from_benchmark(
        cls, bench: Benchmark, scalarization: Scalarization | None = None
    ) -> Problem:
        """The problem over a benchmark's space and metrics, evaluated a batch at a time."""
        return cls(
            bench.space,
            bench,
            [Objective(s.name, s.maximize) for s in bench.specs],
            batched=True,
            scalarization=scalarization,
            bounds=bench.bounds(),
            candidates_as="indices",
        )

    @property
    def n_obj(self) -> int:
        return len(self.objectives)

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.objectives]

    def argument(self, c: Candidate) -> Any:
        return c if self.candidates_as == "indices" else self.space.record(c)

    def evaluate(self, cands: Sequence[Candidate]) -> list[Metrics | Failure]:
        """Metrics of each candidate (one call when batched), or a :class:`Failure` where the
        objective raised or a metric is not a finite number."""
        if not cands:
            return []
        args = [self.argument(c) for c in cands]
        if self.batched:
            try:
                out = list(self.objective(args))
            except Exception as exc:  # noqa: BLE001 - a failed batch fails each of its candidates
                return [Failure(error_text(exc)) for _ in cands]
            if len(out) != len(cands):
                raise ValueError(
                    f"objective: returned {len(out)} results for {len(cands)} candidates"
                )
        else:
            out = []
            for a in args:
                try:
                    out.append(self.objective(a))
                except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
                    out.append(Failure(error_text(exc)))
        return [m if isinstance(m, Failure) else self._check(m) for m in out]

    def _check(self, m: Any) -> Metrics | Failure:
        if isinstance(m, Failure):
            return m
        if not isinstance(m, dict):
            raise ValueError(f"objective: expected a dict of metrics, got {type(m).__name__}")
        for o in self.objectives:
            if o.name not in m:
                raise ValueError(
                    f"objectives: metric {o.name!r} missing from the objective's result "
                    f"(it has {sorted(m)})"
                )
            v = m[o.name]
            if v is None:
                return Failure(f"metric {o.name!r} is None")
            try:
                v = float(v)
            except (TypeError, ValueError):
                return Failure(f"metric {o.name!r} is not a number: {v!r}")
            if not math.isfinite(v):
                return Failure(f"metric {o.name!r} is {v}")
        return m

    def penalty(self, metrics: Sequence[Metrics]) -> Metrics:
        """Metrics worse than every one in ``metrics`` by their spread (what a strategy is told
        for a failed or invalid candidate, so that it moves away from it)."""
        out: Metrics = {}
        F = self.F(metrics) if metrics else np.zeros((0, self.n_obj))
        for j, o in enumerate(self.objectives):
            if len(F):
                worst, spread = float(F[:, j].max()), float(np.ptp(F[:, j]))
            elif self.bounds is not None:
                lo, hi = self.bounds[j]
                worst, spread = (-lo if o.maximize else hi), hi - lo
            else:
                worst, spread = 0.0, 1.0
            bad = worst + (spread if spread > 0 else max(abs(worst), 1.0))
            out[o.name] = -bad if o.maximize else bad
        return out

    def describe_problem(self) -> dict[str, Any]:
        """What identifies this problem, for a checkpoint to refuse another one."""
        from nasfast.search.fingerprint import describe_problem

        return describe_problem(self)

    def F(self, metrics: Sequence[Metrics]) -> np.ndarray:
        """Objectives in minimization form, shape (n, n_obj) (maximized ones negated)."""
        F = np.array([[float(m[o.name]) for o in self.objectives] for m in metrics], dtype=float)
        F = F.reshape(len(metrics), self.n_obj)
        sign = np.array([-1.0 if o.maximize else 1.0 for o in self.objectives])
        return F * sign

    def normalized_F(self, metrics: Sequence[Metrics]) -> np.ndarray:
        """Minimization form scaled to [0, 1] by ``bounds`` (0 = best bound); raw when no bounds."""
        F = self.F(metrics)
        if self.bounds is None:
            return F
        lo = np.array(
            [
                -hi if o.maximize else lo
                for o, (lo, hi) in zip(self.objectives, self.bounds, strict=True)
            ]
        )
        span = np.array([max(hi - lo, 1e-300) for lo, hi in self.bounds])
        return (F - lo) / span

    def fitness(self, metrics: Sequence[Metrics]) -> np.ndarray:
        """One score per result, higher is better: the objective itself, or the scalarization."""
        if self.scalarization is not None:
            return -self.scalarization(self.normalized_F(metrics))
        if self.n_obj != 1:
            raise ValueError(
                f"objectives: a single-objective strategy needs one objective or a "
                f"scalarization, got {self.names}"
            )
        return -self.F(metrics)[:, 0]
