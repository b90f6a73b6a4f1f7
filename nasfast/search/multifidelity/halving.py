"""Successive halving (Jamieson and Talwalkar, AISTATS 2016) and Hyperband (Li et al., JMLR 2018).

Synchronous: a bracket evaluates all of its candidates at one rung, keeps the best
``1/eta`` (at least one) and evaluates those at the next rung, up to the full budget. Successive
halving repeats one bracket that starts at the lowest rung; Hyperband cycles through brackets
that start at every rung, trading many cheap looks for fewer, longer ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nasfast.search.multifidelity.base import Job, Scheduler
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


def check_eta(eta: object) -> float:
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta > 1:
        raise ValueError(f"eta: expected a reduction factor > 1, got {eta!r}")
    return float(eta)


def n_promoted(n: int, eta: float) -> int:
    """How many of ``n`` candidates at a rung move up: ``floor(n / eta)``, at least one."""
    return max(1, int(n // eta))


class Bracket:
    """One run of successive halving from rung ``start`` over ``rungs``."""

    def __init__(self, cands: list[Candidate], rungs: list[float], start: int, eta: float):
        self.rungs, self.rung, self.eta = rungs, start, eta
        self.pending = list(cands)
        self.results: list[tuple[Candidate, float]] = []

    @property
    def finished(self) -> bool:
        return not self.pending and self.rung >= len(self.rungs)

    def jobs(self) -> list[Job]:
        return [Job(c, self.rungs[self.rung]) for c in self.pending]

    def tell(self, cands: Sequence[Candidate], fitness: np.ndarray) -> None:
        done = set()
        for c, f in zip(cands, fitness, strict=True):
            if c in self.pending and c not in done:
                self.results.append((c, float(f)))
                done.add(c)
        self.pending = [c for c in self.pending if c not in done]
        if self.pending:
            return
        ranked = sorted(self.results, key=lambda t: -t[1])  # stable: ties keep asked order
        self.rung += 1
        if self.rung < len(self.rungs):
            self.pending = [c for c, _ in ranked[: n_promoted(len(ranked), self.eta)]]
            self.results = []


class Hyperband(Scheduler):
    """Hyperband: brackets ``s = K, K-1, ..., 0`` (K+1 rungs), bracket ``s`` starting at rung
    ``K - s`` with ``ceil((K + 1) / (s + 1) * eta^s)`` new candidates; then again from ``s = K``.

    Args:
        eta: reduction factor between rungs (rung budgets ``max / eta^k``, or the fidelity's
            levels when it has them).
        sampler: where new candidates come from: uniform (``None``) or a single-fidelity
            strategy (``"rea"``, ``"bo"``, ... or a Strategy) told their first-rung results.
    """

    name = "hyperband"

    def __init__(self, eta: float = 3, sampler=None) -> None:
        self.eta = check_eta(eta)
        self.use_sampler(sampler)

    def _setup(self) -> None:
        self.rungs = self.fidelity.rungs(self.eta)
        self.bracket: Bracket | None = None
        self.n_brackets = 0

    def bracket_plan(self, index: int) -> tuple[int, int]:
        """(start rung, number of candidates) of the ``index``-th bracket."""
        K = len(self.rungs) - 1
        s = K - index % (K + 1)
        return K - s, math.ceil((K + 1) / (s + 1) * self.eta**s)

    def new_candidates(self, n: int, start: int) -> list[Candidate]:
        return self.fresh(n)

    def ask(self) -> list[Job]:
        if self.bracket is None or self.bracket.finished:
            start, n = self.bracket_plan(self.n_brackets)
            cands = self.new_candidates(n, start)
            if not cands:
                return []
            self.bracket = Bracket(cands, self.rungs, start, self.eta)
            self.n_brackets += 1
        return self.bracket.jobs()

    def tell(self, jobs: Sequence[Job], metrics: Sequence[Metrics]) -> None:
        if jobs and self.bracket is not None:
            self.bracket.tell([j.candidate for j in jobs], self.fitness(metrics))

    def state(self) -> str:
        if self.bracket is None:
            return ""
        r = min(self.bracket.rung, len(self.rungs) - 1)
        return (
            f"bracket {self.n_brackets}, rung {r + 1}/{len(self.rungs)} "
            f"({self.rungs[r]:g} {self.fidelity.name})"
        )


class SuccessiveHalving(Hyperband):
    """Successive halving, repeated: ``n_initial`` new candidates at the lowest rung (default
    ``eta^(rungs - 1)``, so one reaches the full budget), the best ``1/eta`` promoted each rung;
    ``sampler`` as for :class:`Hyperband`."""

    name = "sh"

    def __init__(self, eta: float = 3, n_initial: int | None = None, sampler=None) -> None:
        super().__init__(eta, sampler)
        if n_initial is not None and (
            isinstance(n_initial, bool) or not isinstance(n_initial, int) or n_initial < 1
        ):
            raise ValueError(f"n_initial: expected an int >= 1, got {n_initial!r}")
        self.n_initial = n_initial

    def bracket_plan(self, index: int) -> tuple[int, int]:
        K = len(self.rungs) - 1
        return 0, self.n_initial or max(1, round(self.eta**K))
