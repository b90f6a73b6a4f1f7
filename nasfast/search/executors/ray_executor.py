"""Ray: one actor per worker on a local Ray started here, or on an existing cluster by address.

Each actor is sent the problem once; a candidate is one actor call. An actor that dies (its
process killed, its node lost) is replaced by a new one and its candidate reported lost.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from nasfast.search.executors import worker
from nasfast.search.executors.base import Executor, Outcome, Task, WorkerLost, check_workers
from nasfast.search.problem import Problem
from nasfast.spaces.discrete import Candidate

INSTALL_HINT = "ray: not installed; pip install 'nasfast[ray]'"


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ValueError(INSTALL_HINT) from None
    return ray


def start_local_ray(num_cpus: int | None = None) -> None:
    """A local Ray asked for the loopback address, with no dashboard and no usage reporting
    (Ray 2.60 still binds its servers to the machine's address: see docs/executors.md)."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import_ray().init(
        num_cpus=num_cpus,
        include_dashboard=False,
        configure_logging=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )


class _Worker:
    # the problem is loaded by the first call, not here: a problem that cannot be loaded is then
    # an error raised to the driver, not an actor that dies (and is retried as a lost worker)
    def __init__(self, payload: bytes, threads: int | None) -> None:
        self.payload, self.threads = payload, threads

    def evaluate(self, cand: Candidate) -> Outcome:
        if self.payload is not None:
            if self.threads is not None:
                import torch

                torch.set_num_threads(self.threads)
            worker.install(self.payload)
            self.payload = None
        return worker.evaluate(cand)

    def pid(self) -> int:
        return os.getpid()


class RayExecutor(Executor):
    """``workers`` Ray actors of ``num_cpus`` CPUs each. ``address``: an existing cluster
    (``ray.init(address=...)``); None: the Ray this process already joined, or a local one
    started here (and stopped by ``close``)."""

    name = "ray"

    def __init__(
        self,
        workers: int,
        address: str | None = None,
        *,
        threads_per_worker: int | None = 1,
        num_cpus: float = 1,
    ) -> None:
        self.workers = check_workers(workers)
        if address is not None and (not isinstance(address, str) or not address):
            raise ValueError(f"ray_address: expected HOST:PORT or 'auto', got {address!r}")
        self.ray = import_ray()
        self.threads = threads_per_worker
        self._started = False
        if not self.ray.is_initialized():
            os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
            if address is None:
                start_local_ray(max(self.workers, os.cpu_count() or 1))
            else:
                try:
                    self.ray.init(address=address, configure_logging=False, log_to_driver=False)
                except (ConnectionError, ValueError, RuntimeError) as exc:
                    text = " ".join(str(exc).split())[:200]
                    raise ValueError(f"ray_address: cannot join {address!r}: {text}") from None
            self._started = True
        self._remote = self.ray.remote(num_cpus=num_cpus, max_restarts=0)(_Worker)
        self._actors: list[Any] = [None] * self.workers
        self._busy: set[int] = set()
        self._payload: Any = None

    def bind(self, problem: Problem) -> None:
        self._payload = self.ray.put(worker.dump_problem(problem))
        for slot in range(self.workers):
            self._replace(slot)

    def _replace(self, slot: int) -> None:
        old = self._actors[slot]
        if old is not None:
            self.ray.kill(old, no_restart=True)
        self._actors[slot] = self._remote.remote(self._payload, self.threads)

    def submit(self, cand: Candidate) -> Task:
        if self._payload is None:
            raise ValueError("executor: bind(problem) before submitting candidates")
        slot = next(s for s in range(self.workers) if s not in self._busy)
        self._busy.add(slot)
        return Task(cand, slot, self._actors[slot].evaluate.remote(cand))

    def wait(self, tasks: Sequence[Task]) -> list[Task]:
        done, _ = self.ray.wait([t.future for t in tasks], num_returns=1)
        ready = set(done)
        return [t for t in tasks if t.future in ready]

    def outcome(self, task: Task) -> Outcome:
        self._busy.discard(task.slot)
        try:
            return self.ray.get(task.future)
        except self.ray.exceptions.RayActorError:
            self._replace(task.slot)
            raise WorkerLost("Ray actor died") from None

    def pids(self) -> list[int]:
        """Process ids of the actors (for monitoring, and for tests that kill one)."""
        return self.ray.get([a.pid.remote() for a in self._actors if a is not None])

    def close(self) -> None:
        for slot, actor in enumerate(self._actors):
            if actor is not None:
                self.ray.kill(actor, no_restart=True)
            self._actors[slot] = None
        self._busy.clear()
        if self._started:
            self.ray.shutdown()
            self._started = False
