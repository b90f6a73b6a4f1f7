"""A search problem whose objective takes a fidelity: the budget (epochs, images, ...) to spend."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from nasfast.search.problem import Metrics, Objective, Problem
from nasfast.spaces.discrete import Candidate, DiscreteSpace


@dataclass(frozen=True)
class Fidelity:
    """The budget axis of a multi-fidelity problem.

    Args:
        name: its unit, shown in reports (``"epochs"``, ``"images"``, ...).
        min, max: the smallest budget worth evaluating and the full one.
        levels: the only budgets the objective accepts (e.g. NAS-Bench-201's ``(12, 200)``);
            ``None``: any budget in ``[min, max]``.
        continues: whether evaluating a candidate at a larger budget continues its run at the
            smaller one (training resumed: costs the difference) or starts over (costs it all).
        integer: budgets are whole numbers (rung budgets are rounded).
    """

    name: str = "epochs"
    min: float = 1
    max: float = 100
    levels: tuple[float, ...] | None = None
    continues: bool = True
    integer: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min) and math.isfinite(self.max) and 0 < self.min <= self.max):
            raise ValueError(
                f"fidelity: expected 0 < min <= max (finite), got min={self.min} max={self.max}"
            )
        if self.levels is not None:
            lv = tuple(sorted(float(v) for v in self.levels))
            if not lv or lv[0] < self.min or lv[-1] != self.max or len(set(lv)) != len(lv):
                raise ValueError(
                    f"levels: expected distinct budgets in [{self.min}, {self.max}] ending at "
                    f"max, got {self.levels}"
                )
            object.__setattr__(self, "levels", lv)

    def rungs(self, eta: float) -> list[float]:
        """Rung budgets, ascending: ``max, max/eta, max/eta^2, ... >= min`` (the given levels
        when the fidelity has them)."""
        if self.levels is not None:
            return list(self.levels)
        if not eta > 1:
            raise ValueError(f"eta: expected a reduction factor > 1, got {eta}")
        out, b = [], float(self.max)
        while b >= self.min * (1 - 1e-9):
            out.append(self.snap(b))
            b /= eta
        return sorted(set(out))

    def snap(self, budget: float) -> float:
        b = min(max(float(budget), self.min), self.max)
        return float(round(b)) if self.integer else b

    def check(self, budget: float) -> float:
        b = float(budget)
        ok = self.min <= b <= self.max and (self.levels is None or b in self.levels)
        if not ok:
            allowed = self.levels if self.levels is not None else f"[{self.min}, {self.max}]"
            raise ValueError(f"budget: expected {self.name} in {allowed}, got {budget}")
        return b

    def cost(self, budget: float, done: float | None) -> float:
        """Units spent to evaluate at ``budget`` a candidate already evaluated up to ``done``."""
        if done is None or not self.continues:
            return float(budget)
        return max(0.0, float(budget) - float(done))


class MultiFidelityProblem(Problem):
    """A :class:`Problem` whose objective is ``f(candidate, budget) -> dict`` (or, batched,
    ``f(candidates, budget) -> list of dicts``). As a plain ``Problem`` it evaluates at the full
    budget, so every single-fidelity strategy runs on it too."""

    def __init__(
        self,
        space: DiscreteSpace,
        objective: Callable[..., Any],
        objectives: Sequence[Objective | str | tuple[str, str | bool]],
        fidelity: Fidelity,
        *,
        batched: bool = False,
        **kwargs: Any,
    ) -> None:
        if not isinstance(fidelity, Fidelity):
            raise ValueError(f"fidelity: expected a Fidelity, got {type(fidelity).__name__}")
        if not callable(objective):
            raise ValueError("objective: expected a callable f(candidate, budget) -> metrics")
        self.fidelity = fidelity
        self.objective_at = objective
        full = fidelity.max
        super().__init__(space, lambda c: objective(c, full), objectives, batched=batched, **kwargs)

    def evaluate_at(self, cands: Sequence[Candidate], budget: float) -> list[Metrics]:
        """Metrics of each candidate at ``budget``, checked like :meth:`Problem.evaluate`."""
        b = self.fidelity.check(budget)
        b = int(b) if self.fidelity.integer else b
        at = Problem(
            self.space, lambda c: self.objective_at(c, b), self.objectives, batched=self.batched
        )
        return at.evaluate(cands)
