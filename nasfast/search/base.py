"""The ask/tell interface every strategy implements, and the result of a search."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nasfast import pareto
from nasfast.search.problem import Metrics, Problem
from nasfast.spaces.discrete import Candidate


class Strategy(ABC):
    """A search strategy: ``setup(problem, seed)``, then alternately ``ask()`` and ``tell()``.

    ``ask`` returns a batch of candidates (a whole generation where the strategy has one, so
    that an objective can evaluate them together); ``tell`` receives the candidates that were
    evaluated with their metrics (possibly fewer than asked, at the end of a budget). A strategy
    draws all randomness from ``self.rng`` (a numpy Generator seeded in ``setup``).
    """

    name = "strategy"
    multi_objective = False  # True: works on all objectives (Pareto); False: on problem.fitness
    # True: asks may come while earlier candidates are still being evaluated (one result told at
    # a time), so parallel workers stay busy; False: each asked batch is evaluated, then told
    steady_state = False

    def setup(self, problem: Problem, seed: int | None = None) -> Strategy:
        if not self.multi_objective and problem.n_obj > 1 and problem.scalarization is None:
            raise ValueError(
                f"objectives: strategy {self.name!r} is single-objective; give one objective "
                f"or a scalarization (got {problem.names})"
            )
        self.problem = problem
        self.space = problem.space
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._setup()
        return self

    def _setup(self) -> None:  # noqa: B027 - optional hook
        """Per-run state (called by ``setup``)."""

    @abstractmethod
    def ask(self) -> list[Candidate]:
        """The next candidates to evaluate (empty: the strategy has nothing left to propose)."""

    @abstractmethod
    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        """Results of evaluated candidates."""

    def seed_int(self) -> int:
        """An int seed for a library that wants one (Optuna, pymoo), drawn from ``self.rng``."""
        return int(self.rng.integers(0, 2**31 - 1))


@dataclass
class Evaluation:
    candidate: Candidate
    metrics: Metrics
    step: int  # 1-based number of this evaluation in the run


@dataclass
class FailedEvaluation:
    candidate: Candidate
    error: str  # the exception (type: message) or the metric that was not a finite number
    step: int  # 1-based number of this evaluation in the run (failures count)


@dataclass
class SearchResult:
    """History of one run: every distinct candidate evaluated, in order (``failures``: those whose
    evaluation failed, with the error; they are not in ``history``)."""

    problem: Problem
    history: list[Evaluation]
    seed: int | None
    strategy: str
    # "budget", "exhausted" (strategy proposed nothing), "stalled" (only repeats) or "failures"
    stopped: str
    extra: dict = field(default_factory=dict)
    failures: list[FailedEvaluation] = field(default_factory=list)

    @property
    def n_evals(self) -> int:
        return len(self.history)

    def _scores(self) -> np.ndarray:
        metrics = [e.metrics for e in self.history]
        if self.problem.n_obj == 1 or self.problem.scalarization is not None:
            return self.problem.fitness(metrics)
        return -self.problem.F(metrics)[:, 0]  # multi-objective: the first objective

    @property
    def best(self) -> Evaluation:
        """Best evaluation by fitness (first objective for an unscalarized multi-objective run)."""
        if not self.history:
            raise ValueError("result: no evaluations")
        return self.history[int(np.argmax(self._scores()))]

    def incumbents(self) -> list[Evaluation]:
        """For each step, the best evaluation so far."""
        scores = self._scores()
        out, best = [], -1
        for i in range(len(scores)):
            if best < 0 or scores[i] > scores[best]:
                best = i
            out.append(self.history[best])
        return out

    def front(self) -> list[Evaluation]:
        """The non-dominated evaluations (all objectives) among everything evaluated."""
        F = self.problem.F([e.metrics for e in self.history])
        idx = pareto.pareto_front(F)
        # identical objective vectors (several candidates) are kept once each candidate
        return [self.history[i] for i in sorted(idx, key=lambda i: tuple(F[i]))]
