"""End-to-end measurements that the predictions are checked against: a network's latency
(inference, eval mode, no autograd) and its peak memory (CPU: the profiler's allocation events;
CUDA: ``max_memory_allocated``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from nasfast.hardware.profile import check_device, num_threads
from nasfast.hardware.timing import TimingSettings, time_interleaved
from nasfast.hardware.trace import check_inputs


def _real_inputs(inputs: Any, device: torch.device) -> tuple:
    out = []
    for t in check_inputs(inputs):
        out.append(torch.randn(t.shape, dtype=t.dtype, device=device))
    return tuple(out)


def measure_latency(
    networks: Sequence[tuple[nn.Module, Any]],
    *,
    device: torch.device | str = "cpu",
    threads: int | None = 1,
    settings: TimingSettings | None = None,
) -> list[dict[str, float]]:
    """Timing statistics (ms) of each network's forward, interleaved across the networks."""
    dev = check_device(device)
    settings = settings or TimingSettings(warmup=2, rounds=7, sample_ms=0.0001)
    fns: list[Callable[[], object]] = []
    for net, inputs in networks:
        net = net.to(dev).eval()
        args = _real_inputs(inputs, dev)
        fns.append(lambda net=net, args=args: net(*args))
    with num_threads(threads if dev.type == "cpu" else None) as n, torch.no_grad():
        return time_interleaved(fns, settings.resolved(dev, n), dev)


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (the profiler's C++ library logs each start and stop there)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def memory_events(fn: Callable[[], object]) -> list[Any]:
    """The CPU allocator's events (``nbytes`` signed) during ``fn``, in time order."""
    from torch.profiler import ProfilerActivity, profile

    with quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [
        e
        for e in prof.profiler.kineto_results.events()
        if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU
    ]
    events.sort(key=lambda e: e.start_ns())
    return events


def cpu_peak_bytes(fn: Callable[[], object]) -> int:
    """The largest sum of bytes the CPU allocator held during ``fn`` beyond what it held before
    (from the profiler's memory events, in time order)."""
    current = peak = 0
    for e in memory_events(fn):
        current += e.nbytes()
        peak = max(peak, current)
    return peak


def cuda_peak_bytes(fn: Callable[[], object], device: torch.device) -> int:
    torch.cuda.synchronize(device)
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - base


def peak_bytes(fn: Callable[[], object], device: torch.device | str = "cpu") -> int:
    dev = check_device(device)
    return cuda_peak_bytes(fn, dev) if dev.type == "cuda" else cpu_peak_bytes(fn)
