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
    proposer = None  # set by use_sampler: where new candidates come from (None: uniform)

    def use_sampler(self, sampler) -> None:
        """``None``/``"random"`` (uniform) or a single-fidelity strategy (name or object) that
        proposes new candidates and learns from their first results."""
        from nasfast.search.multifidelity.sampling import make_proposer

        self.proposer = make_proposer(sampler)

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
        if self.proposer is not None:
            self.proposer.setup(problem, self.rng)
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

    def record(self, jobs: Sequence[Job], metrics: Sequence[Metrics]) -> None:
        """What the run loop calls: the proposer learns first results, then :meth:`tell`."""
        if self.proposer is not None and jobs:
            self.proposer.tell([j.candidate for j in jobs], metrics)
        self.tell(jobs, metrics)

    def state(self) -> str:
        """Where the schedule is (shown in the progress bar)."""
        return ""

    def fitness(self, metrics: Sequence[Metrics]) -> np.ndarray:
        return np.asarray(self.problem.fitness(metrics), dtype=float)

    def fresh(self, n: int) -> list[Candidate]:
        """Up to ``n`` candidates never asked before (fewer when the space runs out): from the
        sampler strategy when there is one, else uniform."""
        if self.proposer is not None:
            return self.proposer.propose(n, self.seen)
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
