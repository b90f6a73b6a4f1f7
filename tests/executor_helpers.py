"""Objectives that worker processes can import, a simulated executor, and a process census."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nasfast.search import Problem
from nasfast.search.executors import Executor, Task, WorkerLost
from nasfast.spaces import DiscreteSpace

TARGET = (2, 0, 1, 2, 1)


def score(c) -> dict:
    return {"score": -sum(a != b for a, b in zip(c, TARGET, strict=True)) + 0.01 * c[0]}


@dataclass
class Faulty:
    """``score``, except: candidates in ``die`` kill their worker process every time, those in
    ``die_once`` the first time (a marker file in ``marks`` remembers), those in ``raise_on``
    raise; ``log``: a file each evaluation appends its candidate to; ``sleep``: seconds each."""

    marks: str = ""
    die: tuple = ()
    die_once: tuple = ()
    raise_on: tuple = ()
    log: str = ""
    sleep: float = 0.0
    pids: str = ""

    def __call__(self, c):
        c = tuple(int(v) for v in c)
        if self.pids:
            Path(self.pids, str(os.getpid())).touch()
        if self.log:
            with open(self.log, "a") as f:
                f.write(",".join(map(str, c)) + "\n")
        if c in self.die:
            os.kill(os.getpid(), signal.SIGKILL)
        if c in self.die_once:
            mark = Path(self.marks, "-".join(map(str, c)))
            if not mark.exists():
                mark.touch()
                os.kill(os.getpid(), signal.SIGKILL)
        if c in self.raise_on:
            raise RuntimeError(f"cannot evaluate {c}")
        time.sleep(self.sleep)
        return score(c)


def problem(objective=score) -> Problem:
    return Problem(DiscreteSpace([3] * 5), objective, ["max:score"], candidates_as="indices")


@dataclass
class SimulatedWorkers(Executor):
    """``workers`` evaluations at once in this process, finishing in a random order drawn from
    ``seed`` (timing noise, reproduced), and optionally losing chosen candidates' workers."""

    workers: int = 2
    seed: int = 0
    lose: dict = field(default_factory=dict)  # candidate -> times its worker dies
    name = "simulated"

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.max_running = 0
        self.running: list[Task] = []

    def bind(self, problem: Problem) -> None:
        self.problem = problem

    def submit(self, cand) -> Task:
        assert len(self.running) < self.workers, "more tasks submitted than workers"
        task = Task(cand, len(self.running), None)
        self.running.append(task)
        self.max_running = max(self.max_running, len(self.running))
        return task

    def wait(self, tasks: Sequence[Task]) -> list[Task]:
        k = int(self.rng.integers(1, len(tasks) + 1))
        return [tasks[i] for i in sorted(self.rng.choice(len(tasks), size=k, replace=False))]

    def outcome(self, task: Task):
        self.running.remove(task)
        if self.lose.get(task.candidate, 0) > 0:
            self.lose[task.candidate] -= 1
            raise WorkerLost("simulated worker died")
        return self.problem.evaluate([task.candidate])[0]


def descendants(pid: int | None = None) -> set[int]:
    """Live processes below ``pid`` (default: this one), from /proc."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and not _resource_tracker(d):
                parent[int(d.name)] = int(fields[1])
    out, todo = set(), [os.getpid() if pid is None else pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out.update(kids)
        todo.extend(kids)
    return out


def wait_gone(pids: set[int], timeout: float = 20.0) -> set[int]:
    """Those of ``pids`` still alive after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < end:
        alive = {p for p in alive if Path(f"/proc/{p}").exists() and not _zombie(p)}
        time.sleep(0.1)
    return alive


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def _resource_tracker(proc: Path) -> bool:
    """multiprocessing's resource tracker: one per interpreter, it exits with its parent."""
    try:
        return b"resource_tracker" in (proc / "cmdline").read_bytes()
    except OSError:
        return False
