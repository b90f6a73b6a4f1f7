"""Early stopping by learning-curve extrapolation (after Domhan et al., IJCAI 2015).

Candidates are trained one after another, one budget step at a time. Once a candidate has
``min_points`` points and an incumbent exists (a candidate trained to the full budget), the
curve ensemble predicts its value at the full budget; when even the optimistic end of the
central ``level`` band is below the incumbent, training stops and the next candidate starts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasfast.estimate.curves.stopping import STOP_FAMILIES, StopRule
from nasfast.search.multifidelity.base import Job, Scheduler
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


class CurveStopping(Scheduler):
    """Train candidates one by one with early stopping by extrapolated curve.

    Args:
        min_points: points a curve needs before it may be stopped.
        level: central band of the prediction; its upper end is compared to the incumbent.
        limits: range of the fitness (e.g. ``(0, 100)`` for accuracy in percent).
        step: budget added per job (default the fidelity's ``min``); levels when it has them.
        families: curve families of the ensemble (default: the quick-to-fit ones).
        max_candidates: stop the search after this many candidates (None: the budget decides).
    """

    name = "curve"

    def __init__(
        self,
        min_points: int = 3,
        level: float = 0.9,
        limits: tuple[float, float] | None = None,
        step: float | None = None,
        families: Sequence[str] = STOP_FAMILIES,
        max_candidates: int | None = None,
    ) -> None:
        self.rule = StopRule(min_points, level, limits, families)
        if max_candidates is not None and (
            isinstance(max_candidates, bool)
            or not isinstance(max_candidates, int)
            or max_candidates < 1
        ):
            raise ValueError(f"max_candidates: expected an int >= 1, got {max_candidates!r}")
        self.max_candidates = max_candidates
        if step is not None and not step > 0:
            raise ValueError(f"step: expected a positive budget step, got {step}")
        self.step = step

    def _setup(self) -> None:
        fid = self.fidelity
        if not fid.continues:
            raise ValueError(
                "fidelity: stopping by extrapolated curve needs a fidelity that continues "
                "(continues=True: a longer run resumes a shorter one)"
            )
        if fid.levels is not None:
            self.grid = list(fid.levels)
        else:
            step = self.step or fid.min
            self.grid = sorted({fid.snap(b) for b in np.arange(fid.min, fid.max, step)} | {fid.max})
        self.current: Candidate | None = None
        self.curve: list[tuple[float, float]] = []
        self.incumbent: float | None = None
        self.n_started = self.n_stopped = 0
        self.stopped: dict[Candidate, float] = {}  # candidate -> predicted final value

    def ask(self) -> list[Job]:
        if self.current is None:
            if self.max_candidates is not None and self.n_started >= self.max_candidates:
                return []
            new = self.fresh(1)
            if not new:
                return []
            self.current, self.curve = new[0], []
            self.n_started += 1
        return [Job(self.current, self.grid[len(self.curve)])]

    def tell(self, jobs: Sequence[Job], metrics: Sequence[Metrics]) -> None:
        if not jobs:
            return
        for j, f in zip(jobs, self.fitness(metrics), strict=True):
            if j.candidate != self.current:
                continue
            self.curve.append((j.budget, float(f)))
            final = self.fidelity.max
            if j.budget >= final:
                self.incumbent = f if self.incumbent is None else max(self.incumbent, f)
                self.current = None
                continue
            x, y = zip(*self.curve, strict=True)
            stop, mean = self.rule.should_stop(x, y, final, self.incumbent)
            if stop:
                self.stopped[j.candidate] = float(mean)  # type: ignore[arg-type]
                self.n_stopped += 1
                self.current = None

    def state(self) -> str:
        at = f"{self.curve[-1][0]:g}" if self.curve else "0"
        inc = "-" if self.incumbent is None else f"{self.incumbent:.4g}"
        return (
            f"candidate {self.n_started} at {at}/{self.fidelity.max:g} {self.fidelity.name}, "
            f"incumbent {inc}, stopped {self.n_stopped}"
        )
