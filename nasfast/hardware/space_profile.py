"""Profile a whole search space on this device: its operator calls, then the predictor's
correction calibrated on a few random networks of the space measured end to end."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from nasfast.hardware import spaces
from nasfast.hardware.latency import LatencyPredictor
from nasfast.hardware.measure import measure_latency
from nasfast.hardware.profile import check_device, profile_modules
from nasfast.hardware.table import LatencyTable
from nasfast.hardware.timing import TimingSettings


def profile_space(
    cfg: dict[str, Any],
    *,
    device: torch.device | str = "cpu",
    threads: int | None = 1,
    settings: TimingSettings | None = None,
    calibration_networks: int = 16,
    calibration_rounds: int = 7,
    seed: int = 0,
    progress: bool = False,
) -> LatencyTable:
    """The latency table of space ``cfg`` (see :mod:`nasfast.hardware.spaces`), calibrated on
    ``calibration_networks`` random networks (0: no calibration, the table sum predicts)."""
    if isinstance(calibration_networks, bool) or not isinstance(calibration_networks, int):
        raise ValueError(
            f"calibration_networks: expected an int >= 0, got {calibration_networks!r}"
        )
    if calibration_networks == 1 or calibration_networks < 0:
        raise ValueError(
            f"calibration_networks: expected 0 or an int >= 2, got {calibration_networks}"
        )
    dev = check_device(device)
    shape = spaces.input_shape(cfg)
    covering = [(spaces.build_network(cfg, a), shape) for a in spaces.covering_archs(cfg)]
    steps = tqdm(total=2, desc=f"profile {cfg['name']}", disable=not progress)
    table = profile_modules(covering, device=dev, threads=threads, settings=settings, space=cfg)
    steps.update()
    if calibration_networks:
        rng = np.random.default_rng(seed)
        nets = [
            (spaces.build_network(cfg, spaces.random_arch(cfg, rng)), shape)
            for _ in range(calibration_networks)
        ]
        predictor = LatencyPredictor(table, missing="profile")
        X = np.stack([predictor.features(n, s) for n, s in nets])
        stats = measure_latency(
            nets,
            device=dev,
            threads=threads,
            settings=TimingSettings(
                warmup=1, rounds=calibration_rounds, sample_ms=1e-4, clock=table.settings.clock
            ),
        )
        predictor.calibrate(X, [s[table.settings.statistic] for s in stats])
    steps.update()
    steps.close()
    return table
