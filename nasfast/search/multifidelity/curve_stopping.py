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
        compare: what the optimistic prediction must beat: ``"final"``, the incumbent's final
            value; ``"same_budget"``, the incumbent's final value as predicted from as many of
            its own points (the same extrapolation's bias on both sides, e.g. a learning-rate
            schedule whose last epochs lift every curve).
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
        compare: str = "final",
    ) -> None:
        if compare not in ("final", "same_budget"):
            raise ValueError(f"compare: expected 'final' or 'same_budget', got {compare!r}")
        self.compare = compare
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
        self.incumbent_curve: list[tuple[float, float]] = []
        self.bar_cache: dict[int, float] = {}
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
                if self.incumbent is None or f > self.incumbent:
                    self.incumbent, self.incumbent_curve = f, list(self.curve)
                    self.bar_cache = {}
                self.current = None
                continue
            x, y = zip(*self.curve, strict=True)
            bar = self.bar(len(x)) if len(x) >= self.rule.min_points else None
            stop, mean = self.rule.should_stop(x, y, final, bar)
            if stop:
                self.stopped[j.candidate] = float(mean)  # type: ignore[arg-type]
                self.n_stopped += 1
                self.current = None

    def bar(self, n_points: int) -> float | None:
        """What a curve with ``n_points`` points must be able to beat."""
        if self.incumbent is None or self.compare == "final":
            return self.incumbent
        if n_points not in self.bar_cache:
            x, y = zip(*self.incumbent_curve[:n_points], strict=True)
            fitted = self.rule.ensemble.fit(x, y)
            self.bar_cache[n_points] = fitted.predict(self.fidelity.max).at()[0]
        return self.bar_cache[n_points]

    def state(self) -> str:
        at = f"{self.curve[-1][0]:g}" if self.curve else "0"
        inc = "-" if self.incumbent is None else f"{self.incumbent:.4g}"
        return (
            f"candidate {self.n_started} at {at}/{self.fidelity.max:g} {self.fidelity.name}, "
            f"incumbent {inc}, stopped {self.n_stopped}"
        )
