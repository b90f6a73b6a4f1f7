"""The ask/tell interface of multi-fidelity schedulers, and the result of a run."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nasfast.search.base import SearchResult
from nasfast.search.multifidelity.problem import MultiFidelityProblem
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


@dataclass(frozen=True)
class Job:
    """Evaluate ``candidate`` at ``budget``."""

    candidate: Candidate
    budget: float


@dataclass
class Trial:
    candidate: Candidate
    budget: float
    metrics: Metrics
    cost: float  # fidelity units this evaluation spent
    spent: float  # units spent by the run up to and including this trial


class Scheduler(ABC):
    """A multi-fidelity strategy: ``setup(problem, seed)``, then ``ask()`` jobs and ``tell()``
    their metrics. All randomness comes from ``self.rng``, so a replayed run asks the same jobs."""

    name = "scheduler"

    def setup(self, problem: MultiFidelityProblem, seed: int | None = None) -> Scheduler:
        if not isinstance(problem, MultiFidelityProblem):
            raise ValueError(
                f"problem: expected a MultiFidelityProblem, got {type(problem).__name__}"
            )
        self.problem = problem
        self.space = problem.space
        self.fidelity = problem.fidelity
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.seen: set[Candidate] = set()
        self._setup()
        return self

    def _setup(self) -> None:  # noqa: B027 - optional hook
        """Per-run state."""

    @abstractmethod
    def ask(self) -> list[Job]:
        """The next jobs (empty: nothing left to run)."""

    @abstractmethod
    def tell(self, jobs: Sequence[Job], metrics: Sequence[Metrics]) -> None:
        """Results of the jobs that ran (fewer than asked at the end of a budget)."""

    def state(self) -> str:
        """Where the schedule is (shown in the progress bar)."""
        return ""

    def fitness(self, metrics: Sequence[Metrics]) -> np.ndarray:
        return np.asarray(self.problem.fitness(metrics), dtype=float)

    def fresh(self, n: int) -> list[Candidate]:
        """Up to ``n`` uniform samples never asked before (fewer when the space runs out)."""
        out: list[Candidate] = []
        for _ in range(100 * max(n, 1)):
            if len(out) == n:
                break
            (c,) = self.space.sample(self.rng, 1)
            if c not in self.seen:
                self.seen.add(c)
                out.append(c)
        return out


@dataclass
class MultiFidelityResult(SearchResult):
    """A :class:`SearchResult` whose ``history`` holds the evaluations at the full budget; every
    evaluation at any budget is in ``trials``, and ``spent`` counts the fidelity units used."""

    trials: list[Trial] = field(default_factory=list)
    spent: float = 0.0
    unit: str = "epochs"

    def incumbent_trace(self) -> tuple[np.ndarray, np.ndarray]:
        """(units spent, best fitness at the full budget so far) after each full evaluation."""
        full = self.problem.fidelity.max
        units, best, cur = [], [], -np.inf
        for t in self.trials:
            if t.budget == full:
                cur = max(cur, float(self.problem.fitness([t.metrics])[0]))
                units.append(t.spent)
                best.append(cur)
        return np.array(units), np.array(best)
