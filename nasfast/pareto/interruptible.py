"""Exact hypervolume that Ctrl-C can stop: the compiled kernel runs without the GIL on a worker
thread while the calling thread waits in short slices, so a KeyboardInterrupt reaches Python;
it then cancels the kernel (which polls a cancellation counter) and is raised again.

The exact computation grows steeply with the number of objectives M when many points are
mutually non-dominated: 50 such points take about 0.06 s at M = 10, 1.7 s at M = 15 and 31 s at
M = 20 on one core (benchmarks/results/hypervolume_cost.md). :data:`WARN_OBJECTIVES` and
:data:`WARN_POINTS` set where a warning says so.
"""

from __future__ import annotations

import threading
import warnings

import torch

from nasfast._ext import _C

#: a call with at least this many objectives and points warns that it may take minutes
WARN_OBJECTIVES = 15
WARN_POINTS = 40
#: the kernel runs on a worker thread only when ``N ** (M / 2)`` (the growth of the exact
#: computation's worst case) exceeds this: below it a call takes milliseconds at most, and
#: starting a thread would cost more than the call (0.12 ms at M = 5, N = 200)
_THREAD_WORK = 1e7


def fused_hypervolume(F: torch.Tensor, ref: torch.Tensor) -> float:
    """``torch.ops.nasfast.pareto_hypervolume(F, ref)`` for minimized float64 ``F`` [N, M], run
    so that Ctrl-C stops it."""
    n, m = F.shape
    if m >= WARN_OBJECTIVES and n >= WARN_POINTS:
        warnings.warn(
            f"hypervolume: the exact volume of {n} points in {m} objectives may take minutes "
            "(its cost grows steeply with the objectives); Ctrl-C stops it",
            RuntimeWarning,
            stacklevel=3,
        )
    if (
        m < 4
        or float(n) ** (m / 2) <= _THREAD_WORK
        or threading.current_thread() is not threading.main_thread()
    ):
        return float(torch.ops.nasfast.pareto_hypervolume(F, ref))
    result: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            result["value"] = float(torch.ops.nasfast.pareto_hypervolume(F, ref))
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            result["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name="nasfast-hypervolume", daemon=True)
    worker.start()
    try:
        while not done.wait(0.05):
            pass
    except KeyboardInterrupt:
        _C._cancel_hypervolumes()
        done.wait()
        raise
    finally:
        if done.is_set():
            worker.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]  # type: ignore[return-value]
