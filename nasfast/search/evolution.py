"""Regularized evolution (Real et al., AAAI 2019): tournament selection, mutation, aging."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence

import numpy as np

from nasfast.search.base import Strategy
from nasfast.search.operators import Crossover, Mutation, Sampling, as_sampling
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


class RegularizedEvolution(Strategy):
    """REA: keep the ``population_size`` most recent members; each child mutates the best of a
    random sample of ``sample_size`` members; the oldest member dies.

    Args:
        population_size: members alive at once (the first ones drawn by ``sampling``).
        sample_size: tournament size.
        n_mutations: positions changed per child (the default ``mutation``).
        crossover_prob: probability that a child first takes a uniform crossover of the two best
            of its tournament (the default ``crossover``; 0 = the original algorithm).
        batch_size: children per ask (a generation evaluated together).
        sampling: the initial population: a :class:`~nasfast.search.operators.Sampling` operator
            or a list of candidates to start with (the rest uniform); default uniform.
        mutation: operator making a child from its parent (replaces ``n_mutations``).
        crossover: operator crossing the two best of a tournament (replaces ``crossover_prob``).
    """

    name = "rea"
    steady_state = True

    def __init__(
        self,
        population_size: int = 20,
        sample_size: int = 5,
        n_mutations: int = 1,
        crossover_prob: float = 0.0,
        batch_size: int = 1,
        *,
        sampling: Sampling | Sequence[Sequence[int]] | None = None,
        mutation: Mutation | None = None,
        crossover: Crossover | None = None,
    ) -> None:
        if population_size < 2:
            raise ValueError(f"population_size: expected >= 2, got {population_size}")
        if not 1 <= sample_size <= population_size:
            raise ValueError(f"sample_size: expected 1..{population_size}, got {sample_size}")
        if batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
        self.population_size = population_size
        self.sample_size = sample_size
        self.batch_size = batch_size
        self.sampling = as_sampling(sampling)
        self.mutation = mutation or Mutation(n_mutations)
        self.crossover = crossover or Crossover(crossover_prob)

    def _setup(self) -> None:
        self.population: deque[tuple[Candidate, float]] = deque()
        self.seen: set[Hashable] = set()  # canonical keys of everything asked
        self.n_told = 0
        self.n_initial_asked = 0

    def ask(self) -> list[Candidate]:
        if self.n_told < self.population_size:
            n = self.population_size - max(self.n_told, self.n_initial_asked)
            if n > 0:
                self.n_initial_asked += n
                draw = self.sampling if not self.seen else Sampling()  # refills are uniform
                return self._fresh(draw(self.space, self.rng, n))
            if len(self.population) < self.sample_size:
                return []  # the initial population is still being evaluated
        return self._fresh(self._child() for _ in range(self.batch_size))

    def _fresh(self, cands) -> list[Candidate]:
        out = []
        for c in cands:
            self.seen.add(self.space.canonical(c))
            out.append(c)
        return out

    def _child(self) -> Candidate:
        members = list(self.population)
        for _ in range(50):  # prefer a child not evaluated yet
            pick = self.rng.choice(len(members), size=self.sample_size, replace=False)
            order = sorted(pick, key=lambda i: -members[i][1])
            parent = members[order[0]][0]
            if len(order) > 1:
                parent = self.crossover(self.space, parent, members[order[1]][0], self.rng)
            child = self.mutation(self.space, parent, self.rng)
            if self.space.canonical(child) not in self.seen:
                return child
        return child

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        if not cands:
            return
        fit = self.problem.fitness(metrics)
        for c, f in zip(cands, np.asarray(fit, dtype=float), strict=True):
            self.seen.add(self.space.canonical(c))
            self.population.append((c, float(f)))
            if len(self.population) > self.population_size:
                self.population.popleft()
        self.n_told += len(cands)
