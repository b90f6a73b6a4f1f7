"""Local search (hill climbing over one-position changes, random restarts)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasfast.search.base import Strategy
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


class LocalSearch(Strategy):
    """Start from a random candidate; try its untried neighbors in random order and move to
    the best improving one as soon as a batch contains one; at a local optimum, restart from a
    random unseen candidate. White et al. (UAI 2021) found this a strong NAS baseline.

    Args:
        batch_size: neighbors tried per ask (``None``: all of them, best-improvement).
    """

    name = "local"

    def __init__(self, batch_size: int | None = 1) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1 or None, got {batch_size}")
        self.batch_size = batch_size

    def _setup(self) -> None:
        self.seen: set[Candidate] = set()
        self.current: Candidate | None = None
        self.current_fit = -np.inf
        self.queue: list[Candidate] = []

    def _restart(self) -> list[Candidate]:
        self.current = None
        for _ in range(1000):
            (c,) = self.space.sample(self.rng, 1)
            if c not in self.seen:
                return [c]
        return []

    def ask(self) -> list[Candidate]:
        if self.current is None:
            return self._restart()
        if not self.queue:
            return self._restart()  # local optimum: every neighbor tried, none better
        k = len(self.queue) if self.batch_size is None else self.batch_size
        batch, self.queue = self.queue[:k], self.queue[k:]
        return batch

    def _move(self, c: Candidate, f: float) -> None:
        self.current, self.current_fit = c, f
        nbrs = [n for n in self.space.neighbors(c) if n not in self.seen]
        self.queue = [nbrs[i] for i in self.rng.permutation(len(nbrs))]

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        if not cands:
            return
        fit = np.asarray(self.problem.fitness(metrics), dtype=float)
        self.seen.update(cands)
        best = int(np.argmax(fit))
        if self.current is None or fit[best] > self.current_fit:
            self._move(cands[best], float(fit[best]))
        else:
            self.queue = [n for n in self.queue if n not in self.seen]
