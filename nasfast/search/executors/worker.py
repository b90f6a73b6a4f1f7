"""What runs inside a worker process: the problem it was sent, and a watchdog on the driver."""

from __future__ import annotations

import os
import pickle
import threading
import time
from typing import Any

_problem: Any = None


def dump_problem(problem: Any) -> bytes:
    """The problem as bytes for a worker (cloudpickle when installed: lambdas and local
    functions then travel too); a one-line ValueError when it cannot be sent."""
    try:
        import cloudpickle as pickler
    except ImportError:  # pragma: no cover - cloudpickle comes with most installs
        pickler = pickle
    try:
        return pickler.dumps(problem)
    except Exception as exc:  # noqa: BLE001 - any pickling error is the same user error
        raise ValueError(
            f"executor: the problem cannot be sent to worker processes ({type(exc).__name__}: "
            f"{exc}); define the objective at module level"
        ) from None


def start_worker(parent_pid: int, threads: int | None) -> None:
    """Process start-up: torch threads, and exit when the driver is gone (killed or not)."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)


def install(payload: bytes) -> None:
    global _problem
    _problem = pickle.loads(payload)


def evaluate(cand: Any) -> Any:
    if _problem is None:
        raise RuntimeError("executor: this worker holds no problem")
    return _problem.evaluate([cand])[0]
