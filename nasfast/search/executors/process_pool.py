"""A local pool of worker processes (spawned), one ``concurrent.futures`` pool per worker.

One single-process pool per worker: a worker that dies breaks only its own pool, so the
candidate it ran is known exactly (a shared pool fails every task in flight), and the dead
worker is replaced by a fresh process that is sent the problem again.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from nasfast.search.executors import worker
from nasfast.search.executors.base import Executor, Outcome, Task, WorkerLost, check_workers
from nasfast.search.problem import Problem
from nasfast.spaces.discrete import Candidate


class ProcessPool(Executor):
    """``workers`` spawned processes on this machine, each with ``threads_per_worker`` torch
    threads (None: torch's default); no service to start, nothing listens on a socket."""

    name = "process-pool"

    def __init__(self, workers: int, *, threads_per_worker: int | None = 1) -> None:
        self.workers = check_workers(workers)
        if threads_per_worker is not None:
            check_workers(threads_per_worker)
        self.threads = threads_per_worker
        self._context = multiprocessing.get_context("spawn")
        self._pools: list[ProcessPoolExecutor | None] = [None] * self.workers
        self._installed: list[Future | None] = [None] * self.workers
        self._busy: set[int] = set()
        self._payload: bytes | None = None

    def bind(self, problem: Problem) -> None:
        self._payload = worker.dump_problem(problem)
        for slot in range(self.workers):
            self._install(slot)

    def _pool(self, slot: int) -> ProcessPoolExecutor:
        pool = self._pools[slot]
        if pool is None:
            pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=self._context,
                initializer=worker.start_worker,
                initargs=(os.getpid(), self.threads),
            )
            self._pools[slot] = pool
        return pool

    def _install(self, slot: int) -> None:
        # a pool of one process runs its tasks in order: the install precedes every evaluation
        self._installed[slot] = self._pool(slot).submit(worker.install, self._payload)

    def submit(self, cand: Candidate) -> Task:
        if self._payload is None:
            raise ValueError("executor: bind(problem) before submitting candidates")
        free = [s for s in range(self.workers) if s not in self._busy]
        if not free:
            raise ValueError(f"executor: all {self.workers} workers are busy")
        slot = free[0]
        self._busy.add(slot)
        try:
            future = self._pool(slot).submit(worker.evaluate, cand)
        except BrokenProcessPool:
            self._replace(slot)
            future = self._pool(slot).submit(worker.evaluate, cand)
        return Task(cand, slot, future)

    def wait(self, tasks: Sequence[Task]) -> list[Task]:
        done, _ = wait([t.future for t in tasks], return_when=FIRST_COMPLETED)
        return [t for t in tasks if t.future in done]

    def outcome(self, task: Task) -> Outcome:
        self._busy.discard(task.slot)
        try:
            out = task.future.result()
        except BrokenProcessPool:
            self._replace(task.slot)
            raise WorkerLost("worker process died") from None
        installed = self._installed[task.slot]
        if installed is not None and installed.done() and installed.exception() is not None:
            exc = installed.exception()
            raise ValueError(f"executor: a worker could not load the problem ({exc})")
        return out

    def _replace(self, slot: int) -> None:
        pool, self._pools[slot] = self._pools[slot], None
        if pool is not None:
            _stop(pool)
        if self._payload is not None:
            self._install(slot)

    def pids(self) -> list[int]:
        """Process ids of the live workers (for monitoring, and for tests that kill one)."""
        return [p.pid for pool in self._pools if pool is not None for p in _processes(pool)]

    def close(self) -> None:
        for slot, pool in enumerate(self._pools):
            if pool is not None:
                _stop(pool)
            self._pools[slot] = None
        self._busy.clear()


def _processes(pool: ProcessPoolExecutor) -> list:
    return list((getattr(pool, "_processes", None) or {}).values())


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, running task included (shutdown alone waits for it)."""
    procs = _processes(pool)
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=10)
