"""Asynchronous successive halving (ASHA; Li et al., MLSys 2020).

Whenever a worker is free: promote a candidate that is in the top ``1/eta`` of its rung and not
promoted yet (highest rung first), else start a new candidate at the lowest rung. No rung waits
for a full batch, so workers never idle; run sequentially it asks one job at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

from nasfast.search.multifidelity.base import Job, Scheduler
from nasfast.search.multifidelity.halving import check_eta
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


class ASHA(Scheduler):
    """ASHA over the fidelity's rungs (``max / eta^k``, or its levels); ``sampler`` as for
    :class:`Hyperband`."""

    name = "asha"

    def __init__(self, eta: float = 3, sampler=None) -> None:
        self.eta = check_eta(eta)
        self.use_sampler(sampler)

    def _setup(self) -> None:
        self.rungs = self.fidelity.rungs(self.eta)
        self.results: list[list[tuple[Candidate, float]]] = [[] for _ in self.rungs]
        self.promoted: list[set[Candidate]] = [set() for _ in self.rungs]
        self.last = ""

    def promotable(self, k: int) -> Candidate | None:
        """The best not-yet-promoted candidate among the top ``1/eta`` of rung ``k``."""
        ranked = sorted(self.results[k], key=lambda t: -t[1])
        for c, _ in ranked[: int(len(ranked) // self.eta)]:
            if c not in self.promoted[k]:
                return c
        return None

    def ask(self) -> list[Job]:
        for k in range(len(self.rungs) - 2, -1, -1):
            c = self.promotable(k)
            if c is not None:
                self.promoted[k].add(c)
                self.last = f"promote to rung {k + 2}/{len(self.rungs)}"
                return [Job(c, self.rungs[k + 1])]
        new = self.fresh(1)
        self.last = f"new at rung 1/{len(self.rungs)}"
        return [Job(new[0], self.rungs[0])] if new else []

    def tell(self, jobs: Sequence[Job], metrics: Sequence[Metrics]) -> None:
        if not jobs:
            return
        for j, f in zip(jobs, self.fitness(metrics), strict=True):
            self.results[self.rungs.index(j.budget)].append((j.candidate, float(f)))

    def state(self) -> str:
        sizes = "/".join(str(len(r)) for r in self.results)
        return f"{self.last}; per rung {sizes}"
