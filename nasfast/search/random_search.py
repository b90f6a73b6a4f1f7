"""Random search: uniform samples of the space, each candidate at most once."""

from __future__ import annotations

from collections.abc import Sequence

from nasfast.search.base import Strategy
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


class RandomSearch(Strategy):
    """Uniform random sampling without repeats; ``batch_size`` candidates per ask."""

    name = "random"
    multi_objective = True  # it ignores the objectives, so any number works

    def __init__(self, batch_size: int = 1) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
        self.batch_size = batch_size

    def _setup(self) -> None:
        self.seen: set[Candidate] = set()

    def ask(self) -> list[Candidate]:
        out: list[Candidate] = []
        for _ in range(100 * self.batch_size):
            (c,) = self.space.sample(self.rng, 1)
            if c not in self.seen:
                self.seen.add(c)
                out.append(c)
                if len(out) == self.batch_size:
                    return out
        if self.space.size <= 1_000_000:  # nearly exhausted: draw among the unseen directly
            unseen = [c for c in self.space.enumerate() if c not in self.seen]
            k = min(self.batch_size - len(out), len(unseen))
            for i in self.rng.choice(len(unseen), size=k, replace=False):
                self.seen.add(unseen[i])
                out.append(unseen[i])
        return out

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        self.seen.update(cands)
