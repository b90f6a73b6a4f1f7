"""Small shared fixtures of the hardware tests (built once per test process)."""

from __future__ import annotations

import functools

from nasfast.hardware import spaces
from nasfast.hardware.space_profile import profile_space
from nasfast.hardware.table import LatencyTable
from nasfast.hardware.timing import TimingSettings

FAST = TimingSettings(warmup=1, rounds=2, sample_ms=0.05)
TINY_NB201 = spaces.space_config("nb201", C=2, N=1, image=[3, 8, 8])


@functools.lru_cache(maxsize=1)
def _tiny_nb201_table() -> dict:
    table = profile_space(TINY_NB201, settings=FAST, calibration_networks=3, calibration_rounds=2)
    return table.to_dict()


def tiny_nb201_table() -> LatencyTable:
    """A calibrated latency table of a tiny NB201 space (a fresh copy each call)."""
    return LatencyTable.from_dict(_tiny_nb201_table())
