"""Local search (hill climbing over one-position changes, random restarts)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

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
    steady_state = True

    def __init__(self, batch_size: int | None = 1) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1 or None, got {batch_size}")
        self.batch_size = batch_size

    def _setup(self) -> None:
        self.seen: set[Hashable] = set()  # canonical keys
        self.current: Candidate | None = None
        self.current_fit = -np.inf
        self.queue: list[Candidate] = []
        self.n_pending = 0  # asked, not told yet (evaluations still running)

    def _restart(self) -> list[Candidate]:
        self.current = None
        for _ in range(1000):
            (c,) = self.space.sample(self.rng, 1)
            if self.space.canonical(c) not in self.seen:
                return [c]
        valid = self.space.valid_candidates() or []
        unseen = [c for c in valid if self.space.canonical(c) not in self.seen]
        return [unseen[int(self.rng.integers(0, len(unseen)))]] if unseen else []

    def ask(self) -> list[Candidate]:
        batch = self._next()
        self.n_pending += len(batch)
        return batch

    def _next(self) -> list[Candidate]:
        if self.current is None:
            return [] if self.n_pending else self._restart()
        if not self.queue:
            if self.n_pending:
                return []  # neighbors still running: they may improve
            return self._restart()  # local optimum: every neighbor tried, none better
        k = len(self.queue) if self.batch_size is None else self.batch_size
        batch, self.queue = self.queue[:k], self.queue[k:]
        return batch

    def _move(self, c: Candidate, f: float) -> None:
        self.current, self.current_fit = c, f
        nbrs, keys = [], set(self.seen)
        for n in self.space.neighbors(c):
            k = self.space.canonical(n)
            if k not in keys:
                keys.add(k)
                nbrs.append(n)
        self.queue = [nbrs[i] for i in self.rng.permutation(len(nbrs))]

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        if not cands:
            return
        self.n_pending = max(0, self.n_pending - len(cands))
        fit = np.asarray(self.problem.fitness(metrics), dtype=float)
        self.seen.update(self.space.canonical(c) for c in cands)
        best = int(np.argmax(fit))
        if self.current is None or fit[best] > self.current_fit:
            self._move(cands[best], float(fit[best]))
        else:
            self.queue = [n for n in self.queue if self.space.canonical(n) not in self.seen]
