"""Timing of small callables on a noisy host: warm-up, interleaved rounds, robust statistics.

A sample is the mean time of ``number`` back-to-back calls (``number`` sized so one sample lasts
about ``sample_ms``); every callable gets one sample per round and the rounds cycle through all
callables, so a burst of load from another process touches every callable alike. On a CPU with
one thread the clock is by default the thread's CPU time, which leaves out the time other
processes held the core; on CUDA a sample is timed with CUDA events around the calls.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import torch

STATISTICS = ("min", "median", "trimmed_mean")
CLOCKS = ("auto", "wall", "thread")


@dataclass(frozen=True)
class TimingSettings:
    warmup: int = 3
    rounds: int = 7
    sample_ms: float = 1.0
    statistic: str = "min"
    clock: str = "auto"

    def __post_init__(self) -> None:
        for name in ("warmup", "rounds"):
            v = getattr(self, name)
            lo = 0 if name == "warmup" else 1
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")
        if not (isinstance(self.sample_ms, (int, float)) and self.sample_ms > 0):
            raise ValueError(f"sample_ms: expected a number > 0, got {self.sample_ms!r}")
        if self.clock not in CLOCKS:
            raise ValueError(f"clock: expected one of {', '.join(CLOCKS)}, got {self.clock!r}")
        if self.statistic not in STATISTICS:
            raise ValueError(
                f"statistic: expected one of {', '.join(STATISTICS)}, got {self.statistic!r}"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    def resolved(self, device: torch.device | str, threads: int) -> TimingSettings:
        """``clock="auto"``: the calling thread's CPU time on a CPU with one thread (the time
        the work took, not the time other processes held the core: robust on a shared host),
        else wall time."""
        if self.clock != "auto":
            if self.clock == "thread" and (torch.device(device).type != "cpu" or threads != 1):
                raise ValueError("clock: thread CPU time needs a CPU device and threads=1")
            return self
        cpu1 = torch.device(device).type == "cpu" and threads == 1
        return replace(self, clock="thread" if cpu1 else "wall")


def reject_outliers(samples: Sequence[float], k: float = 3.0) -> list[float]:
    """Samples within ``k`` scaled median absolute deviations of the median."""
    med = statistics.median(samples)
    mad = statistics.median(abs(s - med) for s in samples) * 1.4826
    if mad == 0:
        return [s for s in samples if s == med] or list(samples)
    return [s for s in samples if abs(s - med) <= k * mad]


def summarize(samples: Sequence[float]) -> dict[str, float]:
    """min, median and the mean after outlier rejection of samples (ms), and their count."""
    kept = reject_outliers(samples)
    return {
        "min": min(samples),
        "median": statistics.median(samples),
        "trimmed_mean": statistics.fmean(kept),
        "n": len(samples),
        "rejected": len(samples) - len(kept),
    }


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _sample_ms(
    fn: Callable[[], object], number: int, device: torch.device, clock: str = "wall"
) -> float:
    if device.type == "cuda":
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(number):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / number
    now = time.thread_time_ns if clock == "thread" else time.perf_counter_ns
    t0 = now()
    for _ in range(number):
        fn()
    return (now() - t0) / 1e6 / number


def time_interleaved(
    fns: Sequence[Callable[[], object]],
    settings: TimingSettings,
    device: torch.device | str = "cpu",
) -> list[dict[str, float]]:
    """One :func:`summarize` dict per callable (ms per call)."""
    device = torch.device(device)
    numbers = []
    for fn in fns:
        for _ in range(settings.warmup):
            fn()
        _sync(device)
        once = max(_sample_ms(fn, 1, device, settings.clock), 1e-4)
        numbers.append(max(1, math.ceil(settings.sample_ms / once)))
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(settings.rounds):
        for i, fn in enumerate(fns):
            samples[i].append(_sample_ms(fn, numbers[i], device, settings.clock))
    return [summarize(s) | {"number": numbers[i]} for i, s in enumerate(samples)]
