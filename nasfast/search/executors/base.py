"""The executor interface: where candidate evaluations run.

An executor is small on purpose (a Dask ``Client`` could sit behind it): ``bind`` a problem,
``submit`` a candidate for a :class:`Task`, ``wait`` for the first of several tasks to finish,
read its ``outcome``. A task whose worker died raises :class:`WorkerLost` from ``outcome``; the
executor has already replaced that worker, and the caller decides whether to submit again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nasfast.search.problem import Failure, Metrics, Problem
from nasfast.spaces.discrete import Candidate

Outcome = Metrics | Failure


class WorkerLost(Exception):
    """The worker running a task died (process killed, node lost) before it answered."""


@dataclass(eq=False)
class Task:
    """One submitted evaluation: the worker slot it runs on and the engine's future."""

    candidate: Candidate
    slot: int
    future: Any = field(repr=False)


def check_workers(workers: object) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: expected an int >= 1, got {workers!r}")
    return workers


def check_retries(max_retries: object) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries: expected an int >= 0, got {max_retries!r}")
    return max_retries


class Executor(ABC):
    """Runs evaluations of a problem's candidates, at most ``workers`` at once."""

    workers: int = 1
    name = "executor"

    @abstractmethod
    def bind(self, problem: Problem) -> None:
        """Send ``problem`` to the workers (before the first ``submit`` for it)."""

    @abstractmethod
    def submit(self, cand: Candidate) -> Task:
        """Start evaluating ``cand`` on a free worker (callers keep at most ``workers`` running)."""

    @abstractmethod
    def wait(self, tasks: Sequence[Task]) -> list[Task]:
        """Block until at least one of ``tasks`` is finished; return the finished ones."""

    @abstractmethod
    def outcome(self, task: Task) -> Outcome:
        """The metrics or Failure of a finished task; raises :class:`WorkerLost` if its worker
        died (the worker is replaced before this returns)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop the workers this executor started."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcess(Executor):
    """Evaluates in the calling process, one candidate at a time (the default)."""

    name = "in-process"

    def bind(self, problem: Problem) -> None:
        self.problem = problem

    def submit(self, cand: Candidate) -> Task:
        return Task(cand, 0, self.problem.evaluate([cand])[0])

    def wait(self, tasks: Sequence[Task]) -> list[Task]:
        return list(tasks)

    def outcome(self, task: Task) -> Outcome:
        return task.future


def lost_failure(error: WorkerLost, attempts: int) -> Failure:
    return Failure(f"WorkerLost: {error} ({attempts} attempts)")


def evaluate_all(executor: Executor, cands: Sequence[Candidate], max_retries: int) -> list[Outcome]:
    """Outcomes of ``cands`` in their order, every worker busy while candidates remain; a
    candidate whose worker dies is submitted again, up to ``max_retries`` times, then failed."""
    out: list[Outcome | None] = [None] * len(cands)
    todo = deque(range(len(cands)))
    attempts = [0] * len(cands)
    running: dict[Task, int] = {}
    while todo or running:
        while todo and len(running) < executor.workers:
            i = todo.popleft()
            attempts[i] += 1
            running[executor.submit(cands[i])] = i
        for task in executor.wait(list(running)):
            i = running.pop(task)
            try:
                out[i] = executor.outcome(task)
            except WorkerLost as exc:
                if attempts[i] > max_retries:
                    out[i] = lost_failure(exc, attempts[i])
                else:
                    todo.appendleft(i)
    return out  # type: ignore[return-value]
