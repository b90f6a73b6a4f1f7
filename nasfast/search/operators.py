"""Small operator objects a strategy is built from, as pymoo's algorithms take ``sampling=``,
``crossover=`` and ``mutation=``: swap one to change how candidates are drawn or varied.

Every operator draws its randomness from the generator it is handed (the strategy's ``rng``), so
a seeded run stays reproducible whatever operators it uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasfast.spaces.discrete import Candidate, DiscreteSpace


class Sampling:
    """Draws the initial population: ``n`` independent uniform samples of the space."""

    def __call__(self, space: DiscreteSpace, rng: np.random.Generator, n: int) -> list[Candidate]:
        return space.sample(rng, n)


class InitialPopulation(Sampling):
    """Starts the population with given candidates (validated), the rest drawn by ``rest``."""

    def __init__(self, candidates: Sequence[Sequence[int]], rest: Sampling | None = None) -> None:
        self.candidates = [tuple(int(v) for v in c) for c in candidates]
        self.rest = rest or Sampling()

    def __call__(self, space: DiscreteSpace, rng: np.random.Generator, n: int) -> list[Candidate]:
        given = [space.validate(c, name="initial population") for c in self.candidates[: max(n, 0)]]
        return [*given, *self.rest(space, rng, n - len(given))]


def as_sampling(sampling: Sampling | Sequence[Sequence[int]] | None) -> Sampling:
    """``None``: uniform; a list of candidates: that initial population; else the operator."""
    if sampling is None:
        return Sampling()
    if isinstance(sampling, Sampling):
        return sampling
    try:
        return InitialPopulation(sampling)
    except (TypeError, ValueError):
        raise ValueError(
            f"sampling: expected a Sampling operator or a list of candidates, got {sampling!r}"
        ) from None


class Mutation:
    """Changes ``n_changes`` positions of a parent (each to another of its choices)."""

    def __init__(self, n_changes: int = 1) -> None:
        if isinstance(n_changes, bool) or not isinstance(n_changes, int) or n_changes < 1:
            raise ValueError(f"n_mutations: expected an int >= 1, got {n_changes!r}")
        self.n_changes = n_changes

    def __call__(
        self, space: DiscreteSpace, parent: Candidate, rng: np.random.Generator
    ) -> Candidate:
        return space.mutate(parent, rng, self.n_changes)


class Crossover:
    """Uniform crossover of two parents, applied with probability ``prob`` (0: never)."""

    def __init__(self, prob: float = 0.0) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"crossover_prob: expected 0..1, got {prob}")
        self.prob = prob

    def __call__(
        self, space: DiscreteSpace, a: Candidate, b: Candidate, rng: np.random.Generator
    ) -> Candidate:
        """``a`` crossed with ``b`` with probability ``prob``, else ``a`` (no draw when 0)."""
        if self.prob > 0 and rng.random() < self.prob:
            return space.crossover(a, b, rng)
        return a
