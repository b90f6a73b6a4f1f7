"""Interleaved timing of a fast callable against its baseline."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import torch

from nasfast.bench.registry import Case, Fn


@dataclass
class Measurement:
    name: str
    group: str
    baseline: str
    ratio: float  # median over rounds of baseline_time / fast_time (paired per round)
    ratio_q25: float
    ratio_q75: float
    fast_ms: float
    baseline_ms: float
    rounds: int
    target: float | None
    floor: str

    def as_dict(self) -> dict:
        return asdict(self)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _time(fn: Fn, inner: int, device: str) -> float:
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    _sync(device)
    return (time.perf_counter() - t0) / inner


def _calibrate(fn: Fn, min_round_s: float, device: str) -> int:
    t = _time(fn, 1, device)
    return max(1, min(1000, int(min_round_s / max(t, 1e-7))))


def measure(case: Case, *, rounds: int = 30, min_round_s: float = 0.02) -> Measurement:
    """Time ``case`` over ``rounds`` paired rounds, alternating which callable goes first."""
    fast, base = case.setup()
    for fn in (fast, base, fast, base):  # warm-up: allocator, caches, lazy init
        fn()
    inner_fast = _calibrate(fast, min_round_s, case.device)
    inner_base = _calibrate(base, min_round_s, case.device)
    ratios, tf, tb = [], [], []
    for r in range(rounds):
        if r % 2 == 0:
            a = _time(fast, inner_fast, case.device)
            b = _time(base, inner_base, case.device)
        else:
            b = _time(base, inner_base, case.device)
            a = _time(fast, inner_fast, case.device)
        tf.append(a)
        tb.append(b)
        ratios.append(b / a)
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    return Measurement(
        name=case.name,
        group=case.group,
        baseline=case.baseline,
        ratio=statistics.median(ratios),
        ratio_q25=q[0],
        ratio_q75=q[2],
        fast_ms=statistics.median(tf) * 1e3,
        baseline_ms=statistics.median(tb) * 1e3,
        rounds=rounds,
        target=case.target,
        floor=case.floor,
    )
