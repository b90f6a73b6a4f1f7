"""The steady-state loop: every worker busy, each finished evaluation told to the strategy and
the next candidate submitted at once (random search, REA, local search).

``order="submitted"`` (deterministic): results are told in the order their candidates were
submitted, and a new candidate is asked for when a result is told, so the sequence of asks and
tells depends on the seed and the number of workers only, never on timing. A worker that
finishes ahead of an older evaluation waits for it. ``order="completed"``: each result is told
as it arrives and its worker gets the next candidate at once (no worker ever waits; the run
depends on timing).
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from nasfast.search.base import SearchResult, Strategy
from nasfast.search.executors.base import Executor, Task, WorkerLost, lost_failure
from nasfast.search.problem import Failure, Metrics, Problem
from nasfast.search.record import record, spent, tell_outcomes
from nasfast.spaces.discrete import Candidate

Outcome = Metrics | Failure
ORDERS = ("submitted", "completed")


@dataclass(eq=False)
class _Entry:
    cand: Candidate
    key: Hashable
    fresh: bool  # a new evaluation (counts against the budget), else a repeat of a known key
    attempts: int = 0


@dataclass
class Limits:
    budget: int
    max_stall: int
    max_repeats: int
    max_failures: int | None
    max_retries: int
    order: str


class SteadyState:
    """One run: the strategy's asked candidates, what runs, and what waits to be told."""

    def __init__(
        self,
        problem: Problem,
        strategy: Strategy,
        executor: Executor,
        result: SearchResult,
        stored: dict[Hashable, Outcome],
        limits: Limits,
        on_recorded: Callable[[], None],
        callback: Callable[[SearchResult], None] | None,
        bar: Any,
    ) -> None:
        self.problem, self.strategy, self.executor = problem, strategy, executor
        self.result, self.stored, self.limits = result, stored, limits
        self.on_recorded, self.callback, self.bar = on_recorded, callback, bar
        self.queue: deque[Candidate] = deque()  # asked, not submitted yet
        self.line: deque[_Entry] = deque()  # submitted, not told yet, in submission order
        self.running: dict[Task, _Entry] = {}
        self.outcomes: dict[Hashable, Outcome] = {}
        self.submitted: set[Hashable] = set()
        self.stopping = False
        self.stall = self.repeats = 0

    def run(self) -> None:
        while True:
            self._fill()
            self._tell_ready()
            if not self.line:
                if self.stopping or len(self.submitted) >= self.limits.budget:
                    return
                continue  # the strategy waited for results that are now told: ask again
            if self.running:
                self._collect(self.executor.wait(list(self.running)))

    def _capacity_left(self) -> bool:
        if self.limits.order == "submitted":  # counted on the line: independent of timing
            busy = sum(e.fresh for e in self.line)
        else:
            busy = len(self.running)
        return busy < self.executor.workers

    def _fill(self) -> None:
        while not self.stopping and len(self.submitted) < self.limits.budget:
            if not self._capacity_left():
                return
            if not self.queue and not self._ask():
                return
            self._submit(self.queue.popleft())

    def _ask(self) -> bool:
        asked = self.strategy.ask()
        if not asked:
            if not self.line:  # nothing in flight either: the strategy is done
                self.result.stopped = "exhausted"
                self.stopping = True
            return False
        space = self.problem.space
        cands = [space.validate(c, name=f"{self.strategy.name} candidate") for c in asked]
        keys = {space.canonical(c) for c in cands}
        self.stall = self.stall + 1 if keys <= self.submitted else 0
        self.queue.extend(cands)
        return True

    def _submit(self, c: Candidate) -> None:
        key = self.problem.space.canonical(c)
        if key in self.submitted:
            self.line.append(_Entry(c, key, fresh=False))
            self.repeats += 1
            if self.stall >= self.limits.max_stall or self.repeats > self.limits.max_repeats:
                self.result.stopped = "stalled"
                self.stopping = True
            return
        self.submitted.add(key)
        entry = _Entry(c, key, fresh=True)
        if key in self.stored:
            self.outcomes[key] = self.stored.pop(key)
        else:
            self._start(entry)
        self.line.append(entry)

    def _start(self, entry: _Entry) -> None:
        entry.attempts += 1
        self.running[self.executor.submit(entry.cand)] = entry

    def _collect(self, done: list[Task]) -> None:
        for task in done:
            entry = self.running.pop(task)
            try:
                self.outcomes[entry.key] = self.executor.outcome(task)
            except WorkerLost as exc:
                if entry.attempts > self.limits.max_retries:
                    self.outcomes[entry.key] = lost_failure(exc, entry.attempts)
                else:
                    self._start(entry)

    def _tell_ready(self) -> None:
        while True:
            entry = self._next_ready()
            if entry is None:
                return
            self._tell(entry)
            self._fill()

    def _next_ready(self) -> _Entry | None:
        for entry in self.line:
            if entry.key in self.outcomes:
                self.line.remove(entry)
                return entry
            if self.limits.order == "submitted":
                return None
        return None

    def _tell(self, entry: _Entry) -> None:
        out = self.outcomes[entry.key]
        if entry.fresh:
            record(self.result, entry.cand, out)
            self.on_recorded()
            self._show()
        tell_outcomes(self.strategy, self.problem, self.result, [(entry.cand, out)])
        if self.callback is not None:
            self.callback(self.result)
        failures = len(self.result.failures)
        if entry.fresh and self.limits.max_failures is not None:
            if failures > self.limits.max_failures and not self.stopping:
                self.result.stopped = "failures"
                self.stopping = True
                warnings.warn(
                    f"max_failures: {failures} evaluations failed, run stopped; last "
                    f"error: {self.result.failures[-1].error}",
                    UserWarning,
                    stacklevel=4,
                )

    def _show(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix(
                busy=f"{len(self.running)}/{self.executor.workers}",
                done=spent(self.result),
                failed=len(self.result.failures),
                refresh=False,
            )
            self.bar.update(1)
