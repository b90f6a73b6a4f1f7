"""Training peak memory of all 15,625 NAS-Bench-201 networks, from exact values on a sample.

The exact tracker (:func:`nasfast.hardware.memory.training_memory`) takes about a second per
full-size network, hours for the whole space. A step has two peaks, one in the forward and
backward pass (saved activations, gradients) and one in the optimizer step (parameters,
gradients, optimizer state); each is close to linear in how many of the cell's 6 edges run each
op (an op's weights and saved activations are the same wherever it sits). So each phase's peak
is fitted by least squares on the op counts of ``fit`` sampled networks and the larger of the two
fits predicts the rest; ``check`` more sampled networks measure the error, which is returned with
the values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from nasfast.hardware import spaces
from nasfast.hardware.memory import training_memory
from nasfast.hardware.nb201_memory import all_archs
from nasfast.hardware.workspace import Workspaces
from nasfast.spaces.nb201 import OPS


def op_counts(archs: np.ndarray) -> np.ndarray:
    """``[n, 5]``: a constant and the number of edges running ops 1..4 (op 0 is the rest)."""
    counts = np.stack([(archs == o).sum(axis=1) for o in range(1, len(OPS))], axis=1)
    return np.hstack([np.ones((len(archs), 1)), counts]).astype(np.float64)


def nb201_training_memory(
    cfg: dict[str, Any],
    optimizer: str = "momentum",
    workspaces: Workspaces | None = None,
    fit: int = 24,
    check: int = 12,
    seed: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Training peak bytes of every arch (mixed-radix order) and the fit's report."""
    if fit < op_counts(all_archs()[:1]).shape[1] or check < 1:
        raise ValueError(
            f"fit: expected at least 5 fitted and 1 checked network, got {fit}, {check}"
        )
    rng = np.random.default_rng(seed)
    everything = all_archs()
    rows = rng.choice(len(everything), size=fit + check, replace=False)
    sample = everything[rows]
    estimates = [
        training_memory(
            spaces.build_network(cfg, tuple(a)),
            spaces.input_shape(cfg),
            optimizer,
            workspaces=workspaces,
        )
        for a in sample.tolist()
    ]
    exact = np.array([e.peak for e in estimates], dtype=np.float64)
    X, X_all = op_counts(sample), op_counts(everything)
    # each phase's peak is close to linear in the op counts; the step's peak is the larger
    fitted = np.zeros(len(everything))
    held_out = np.zeros(check)
    for phase in estimates[0].phases:
        y = np.array([e.phases[phase] for e in estimates], dtype=np.float64)
        coef = scipy.linalg.lstsq(X[:fit], y[:fit])[0]
        fitted = np.maximum(fitted, X_all @ coef)
        held_out = np.maximum(held_out, X[fit:] @ coef)
    rel = np.abs(held_out - exact[fit:]) / exact[fit:]
    values = np.rint(fitted).astype(np.int64)
    values[rows] = exact.astype(np.int64)
    report = {
        "method": "max over phases of least squares on op counts",
        "fitted": int(fit),
        "checked": int(check),
        "max_rel_error": float(rel.max()),
        "median_rel_error": float(np.median(rel)),
    }
    return values, report
