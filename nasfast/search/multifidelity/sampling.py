"""Where a scheduler's new candidates come from: uniform sampling, or any single-fidelity
strategy of :mod:`nasfast.search` (REA, BO, ...) told the results at the candidates' first rung.

The scheduler decides how far each candidate is trained; the strategy decides which candidates
to try, learning from the cheap first looks (e.g. regularized evolution on 12-epoch accuracy,
with the most promising trained to 200 epochs).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from nasfast.search.base import Strategy
from nasfast.search.problem import Metrics, Problem
from nasfast.spaces.discrete import Candidate


def make_proposer(sampler: str | Strategy | None) -> StrategyProposer | None:
    """None or ``"random"``: uniform sampling (the scheduler's own); a strategy name or object:
    proposals by that strategy."""
    if sampler is None or sampler == "random":
        return None
    if isinstance(sampler, str):
        from nasfast.search import make_strategy

        if sampler == "nsga2":
            raise ValueError("sampler: expected a single-objective strategy, got 'nsga2'")
        return StrategyProposer(make_strategy(sampler))
    if isinstance(sampler, Strategy):
        return StrategyProposer(sampler)
    raise ValueError(f"sampler: expected a strategy name or Strategy, got {type(sampler).__name__}")


class StrategyProposer:
    """Asks a :class:`Strategy` for candidates never tried; tells it their first results."""

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy

    def setup(self, problem: Problem, rng: np.random.Generator) -> None:
        self.strategy.setup(problem, int(rng.integers(0, 2**31 - 1)))
        self.queue: deque[Candidate] = deque()
        self.first: dict[Candidate, Metrics] = {}  # results the strategy was told
        self.waiting: set[Candidate] = set()  # proposed, result not in yet

    def propose(self, n: int, seen: set[Candidate]) -> list[Candidate]:
        out: list[Candidate] = []
        for _ in range(50 * max(n, 1)):
            if len(out) == n:
                break
            if not self.queue:
                asked = self.strategy.ask()
                if not asked:
                    break
                self.queue.extend(asked)
            c = tuple(int(v) for v in self.queue.popleft())
            if c not in seen:
                seen.add(c)
                self.waiting.add(c)
                out.append(c)
            elif c in self.first:  # a repeat: answered from what the strategy saw before
                self.strategy.tell([c], [self.first[c]])
        return out

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        """Results of proposed candidates at their first budget (others are ignored)."""
        told = [(c, m) for c, m in zip(cands, metrics, strict=True) if c in self.waiting]
        if told:
            for c, m in told:
                self.waiting.discard(c)
                self.first[c] = m
            self.strategy.tell([c for c, _ in told], [m for _, m in told])
