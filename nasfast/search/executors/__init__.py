"""Where candidate evaluations run: in this process (the default), a local process pool, or Ray.

>>> from nasfast.search import minimize, make_strategy
>>> from nasfast.search.executors import ProcessPool
>>> with ProcessPool(2) as pool:                               # doctest: +SKIP
...     result = minimize(problem, make_strategy("rea"), 100, seed=0, executor=pool)
"""

from __future__ import annotations

from nasfast.search.executors.base import (
    Executor,
    InProcess,
    Task,
    WorkerLost,
    check_workers,
    evaluate_all,
)
from nasfast.search.executors.process_pool import ProcessPool


def make_executor(
    workers: int = 1, ray_address: str | None = None, *, threads_per_worker: int | None = 1
) -> Executor:
    """In-process for 1 worker, a local process pool for more, Ray when given an address
    (``"local"``: a Ray started here)."""
    check_workers(workers)
    if ray_address is not None:
        from nasfast.search.executors.ray_executor import RayExecutor

        address = None if ray_address == "local" else ray_address
        return RayExecutor(workers, address, threads_per_worker=threads_per_worker)
    if workers == 1:
        return InProcess()
    return ProcessPool(workers, threads_per_worker=threads_per_worker)


__all__ = [
    "Executor",
    "InProcess",
    "ProcessPool",
    "Task",
    "WorkerLost",
    "evaluate_all",
    "make_executor",
]
