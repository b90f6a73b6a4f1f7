"""Latency prediction from a lookup table: the sum of the network's operator latencies, corrected
by a linear model calibrated on a few networks measured end to end.

An additive table misses what happens between operators (Python and module-call overhead, cache
state, fused kernels; nn-Meter, Zhang et al., MobiSys 2021, showed that fusion breaks additivity).
The correction is ``ms = a * table_ms + b * op_calls + c * module_calls + d``, least squares on
the calibration networks (``scipy.linalg.lstsq``); without calibration the prediction is the
table sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg
from torch import nn

from nasfast.hardware import spaces
from nasfast.hardware.profile import check_device, profile_modules
from nasfast.hardware.table import LatencyTable
from nasfast.hardware.trace import Trace, trace_forward

FEATURES = ("table_ms", "op_calls", "module_calls", "constant")
MISSING = ("error", "profile")


class LatencyPredictor:
    """``predict(network_or_arch)`` in ms on the table's device and settings.

    ``missing="profile"`` times operator calls the table lacks on the spot (only on the device
    the table was measured on) and adds them to the table; ``"error"`` raises naming the call.
    """

    def __init__(self, table: LatencyTable | str | Path, missing: str = "error") -> None:
        if missing not in MISSING:
            raise ValueError(f"missing: expected one of {', '.join(MISSING)}, got {missing!r}")
        self.table = table if isinstance(table, LatencyTable) else LatencyTable.load(table)
        self.missing = missing

    # ---------------------------------------------------------------- inputs
    def network_and_input(self, network: Any, inputs: Any = None) -> tuple[nn.Module, Any]:
        if isinstance(network, nn.Module):
            if inputs is None:
                if self.table.space is None:
                    raise ValueError("inputs: the table names no space; give the input shape")
                inputs = spaces.input_shape(self.table.space)
            return network, inputs
        if self.table.space is None:
            raise ValueError("network: the table names no space, so an arch cannot be built")
        net = spaces.build_network(self.table.space, network)
        return net, inputs if inputs is not None else spaces.input_shape(self.table.space)

    def _fill_missing(self, trace: Trace, net: nn.Module, inputs: Any) -> None:
        absent = [c.key for c in trace.calls if c.key not in self.table.ops]
        if not absent:
            return
        if self.missing == "error":
            raise ValueError(
                f"network: the latency table has no entry for {absent[0][:120]} "
                f"({len(set(absent))} missing; profile the space or use missing='profile')"
            )
        device = self.table.device
        dev = check_device("cuda" if device["type"] == "cuda" else "cpu")
        profile_modules(
            [(net, inputs)], device=dev, threads=device.get("threads"), table=self.table
        )

    # ---------------------------------------------------------------- features
    def features(self, network: Any, inputs: Any = None) -> np.ndarray:
        """``[table_ms, op_calls, module_calls, 1]`` of one network (or arch)."""
        net, inputs = self.network_and_input(network, inputs)
        trace = trace_forward(net, inputs)
        self._fill_missing(trace, net, inputs)
        ops = self.table.ops
        table_ms = sum(ops[c.key]["ms"] for c in trace.calls)
        return np.array([table_ms, len(trace.calls), trace.module_calls, 1.0])

    def predict_features(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        cal = self.table.calibration
        if cal is None:
            return X[:, 0].copy()
        return X @ np.asarray(cal["coef"], dtype=np.float64)

    def predict(self, network: Any, inputs: Any = None) -> float:
        """Predicted latency (ms) of an ``nn.Module`` (at ``inputs``, default: the table's
        space input) or of an arch of the table's space."""
        return float(self.predict_features(self.features(network, inputs))[0])

    def predict_many(self, networks: Sequence[Any], inputs: Any = None) -> np.ndarray:
        return self.predict_features(np.stack([self.features(n, inputs) for n in networks]))

    # ---------------------------------------------------------------- calibration
    def calibrate(self, X: np.ndarray, measured_ms: Sequence[float]) -> dict[str, Any]:
        """Fit the correction on feature rows ``X`` and their measured latencies; stores it in
        the table and returns it."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        y = np.asarray(measured_ms, dtype=np.float64)
        if X.shape != (len(y), len(FEATURES)) or len(y) < 2:
            raise ValueError(
                f"measured_ms: expected one latency per feature row (at least 2), got "
                f"{len(y)} for {X.shape[0]} rows"
            )
        if not np.all(np.isfinite(y)) or (y <= 0).any():
            raise ValueError("measured_ms: expected finite latencies > 0")
        # relative errors matter: weight each network by 1 / its latency
        w = 1.0 / y
        coef = scipy.linalg.lstsq(X * w[:, None], y * w)[0]
        pred = X @ coef
        rel = np.abs(pred - y) / y
        cal = {
            "features": list(FEATURES),
            "coef": [float(c) for c in coef],
            "networks": int(len(y)),
            "fit_within_10pct": float(np.mean(rel <= 0.10)),
            "fit_median_rel_error": float(np.median(rel)),
        }
        self.table.calibration = cal
        return cal
