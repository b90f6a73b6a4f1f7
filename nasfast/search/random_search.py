"""Random search: uniform samples of the space, each candidate at most once."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from nasfast.search.base import Strategy
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


class RandomSearch(Strategy):
    """Uniform random sampling without repeats; ``batch_size`` candidates per ask."""

    name = "random"
    multi_objective = True  # it ignores the objectives, so any number works
    steady_state = True

    def __init__(self, batch_size: int = 1) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
        self.batch_size = batch_size

    def _setup(self) -> None:
        self.seen: set[Hashable] = set()  # canonical keys

    def ask(self) -> list[Candidate]:
        out: list[Candidate] = []
        for _ in range(100 * self.batch_size):
            (c,) = self.space.sample(self.rng, 1)
            key = self.space.canonical(c)
            if key not in self.seen:
                self.seen.add(key)
                out.append(c)
                if len(out) == self.batch_size:
                    return out
        valid = self.space.valid_candidates()
        if valid is not None:  # nearly exhausted: draw among the unseen classes directly
            unseen: dict[Hashable, Candidate] = {}
            for c in valid:
                unseen.setdefault(self.space.canonical(c), c)
            for key in self.seen:
                unseen.pop(key, None)
            pool = list(unseen.items())
            k = min(self.batch_size - len(out), len(pool))
            for i in self.rng.choice(len(pool), size=k, replace=False):
                self.seen.add(pool[i][0])
                out.append(pool[i][1])
        return out

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        self.seen.update(self.space.canonical(c) for c in cands)
