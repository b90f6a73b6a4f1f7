"""Step time of a search, fused vs reference DartsEdge backend, measured interleaved."""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time

from nasfast.darts.search import DartsSearch, SearchConfig
from nasfast.datasets import ImageData


def time_backends(cfg: SearchConfig, data: ImageData, rounds: int, device: str = "cpu") -> dict:
    """Median step seconds of each backend and the median of the paired ratios
    (reference / fused) over ``rounds`` rounds, alternating which backend goes first; one
    warm-up step each. Both searches start from the same seed with the same settings."""
    if rounds < 1:
        raise ValueError(f"rounds: expected a positive number of rounds, got {rounds}")
    steppers = {}
    for backend in ("fused", "reference"):
        s = DartsSearch(
            dataclasses.replace(cfg, backend=backend, progressive=False),
            data,
            tempfile.mkdtemp(prefix="nasfast-timing-"),
            device=device,
            progress=False,
        )
        s._enter_stage(0)
        steppers[backend] = s

    def one(s: DartsSearch) -> float:
        t0 = time.perf_counter()
        s._one_step(s.locate(s.step))
        s.step = (s.step + 1) % s.total_steps
        return time.perf_counter() - t0

    for s in steppers.values():
        one(s)
    tf, tr, ratios = [], [], []
    for r in range(rounds):
        order = ("fused", "reference") if r % 2 == 0 else ("reference", "fused")
        t = {b: one(steppers[b]) for b in order}
        tf.append(t["fused"])
        tr.append(t["reference"])
        ratios.append(t["reference"] / t["fused"])
    return {
        "fused_s": statistics.median(tf),
        "reference_s": statistics.median(tr),
        "ratio": statistics.median(ratios),
        "rounds": rounds,
    }
