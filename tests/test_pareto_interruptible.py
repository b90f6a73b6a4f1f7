"""Exact hypervolume at many objectives: Ctrl-C stops the compiled kernel, and a size that may
take minutes warns first."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from nasfast import pareto
from nasfast.pareto import interruptible


def _sphere(n: int, m: int, seed: int = 0) -> np.ndarray:
    """Mutually non-dominated points (on a sphere), the hard case of the exact computation."""
    F = np.random.default_rng(seed).random((n, m))
    return 1.0 - F / np.linalg.norm(F, axis=1, keepdims=True)


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "nasfast-hypervolume"]


@pytest.fixture
def threaded(monkeypatch):
    """Small inputs run on the worker thread too (the reference twin is slow on large ones)."""
    monkeypatch.setattr(interruptible, "_THREAD_WORK", 0.0)


def test_ctrl_c_stops_a_long_exact_hypervolume(threaded):
    F = _sphere(50, 20)  # about half a minute of work on one core
    signalled = []

    def interrupt():
        signalled.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.3, interrupt)
    timer.start()
    try:
        with pytest.warns(RuntimeWarning, match="may take minutes"):
            with pytest.raises(KeyboardInterrupt):
                pareto.hypervolume(F, [1.0] * 20)
        stopped = time.monotonic()
    finally:
        timer.cancel()
    # an uncancellable kernel would raise too, but only after finishing, tens of seconds later
    assert len(signalled) == 1 and stopped - signalled[0] < 3.0
    assert _workers() == []  # the kernel stopped: its thread was joined
    # later calls are not cancelled, and threaded calls give the kernel's value
    small = _sphere(8, 4, seed=1)
    want = pareto.hypervolume(small, [1.0] * 4, backend="reference")
    assert pareto.hypervolume(small, [1.0] * 4) == pytest.approx(want, rel=1e-12)


def test_off_the_main_thread_the_kernel_runs_directly(threaded):
    F, out = _sphere(8, 4, seed=2), []
    t = threading.Thread(target=lambda: out.append(pareto.hypervolume(F, [1.0] * 4)))
    t.start()
    t.join()
    assert out[0] == pytest.approx(pareto.hypervolume(F, [1.0] * 4, backend="reference"))


def test_large_sizes_warn(monkeypatch):
    monkeypatch.setattr(interruptible, "WARN_OBJECTIVES", 4)
    monkeypatch.setattr(interruptible, "WARN_POINTS", 10)
    with pytest.warns(RuntimeWarning, match=r"10 points in 4 objectives may take minutes"):
        pareto.hypervolume(_sphere(10, 4), [1.0] * 4)
