"""Profiling: time every distinct operator call of some networks on this device into a table.

``profile_modules([(module, input_shape), ...])`` accepts any ``nn.Module`` at given inputs (a
user's own model space plugs in here); :func:`nasfast.hardware.spaces.profile_space` calls it on
the networks that cover a search space's ops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from nasfast.hardware.table import LatencyTable, device_info
from nasfast.hardware.timing import TimingSettings, time_interleaved
from nasfast.hardware.trace import OpCall, check_inputs, trace_forward


def check_device(device: torch.device | str) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device: expected cpu or cuda[:N], got {device!r}") from None
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device: expected cpu or cuda[:N], got {device!r}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device} requested but CUDA is not available")
    return dev


@contextmanager
def num_threads(threads: int | None) -> Iterator[int]:
    """``torch.set_num_threads(threads)`` inside the block (None: leave as is)."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
        raise ValueError(f"threads: expected an int >= 1, got {threads!r}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads: expected an int >= 1, got {threads}")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def unique_calls(calls: Sequence[OpCall]) -> list[OpCall]:
    seen: dict[str, OpCall] = {}
    for c in calls:
        seen.setdefault(c.key, c)
    return list(seen.values())


def _replay(call: OpCall, device: torch.device) -> Callable[[], Any]:
    args, kwargs = call.inputs(device)
    func = call.func
    return lambda: func(*args, **kwargs)


def time_calls(
    calls: Sequence[OpCall], settings: TimingSettings, device: torch.device
) -> dict[str, dict[str, float]]:
    """Table entries (``ms`` = the settings' statistic) for the distinct calls, timed
    interleaved on random inputs of their recorded layouts."""
    calls = unique_calls(calls)
    with torch.no_grad():
        stats = time_interleaved([_replay(c, device) for c in calls], settings, device)
    return {c.key: {"ms": s[settings.statistic], **s} for c, s in zip(calls, stats)}


def profile_modules(
    modules: Sequence[tuple[nn.Module, Any]],
    *,
    device: torch.device | str = "cpu",
    threads: int | None = 1,
    settings: TimingSettings | None = None,
    space: dict[str, Any] | None = None,
    table: LatencyTable | None = None,
) -> LatencyTable:
    """Trace each ``(module, inputs)`` (inputs: a shape or tensors) and time the operator calls
    not yet in ``table`` (a new table when None) on ``device`` with ``threads`` CPU threads."""
    dev = check_device(device)
    settings = settings or TimingSettings()
    if not modules:
        raise ValueError("modules: expected at least one (module, inputs) pair")
    calls: list[OpCall] = []
    for module, inputs in modules:
        check_inputs(inputs)
        calls.extend(trace_forward(module, inputs).calls)
    with num_threads(threads if dev.type == "cpu" else None) as n:
        if table is None:
            table = LatencyTable(device_info(dev, n), settings.resolved(dev, n), space=space)
        todo = [c for c in unique_calls(calls) if c.key not in table.ops]
        if todo:
            table.ops.update(time_calls(todo, table.settings, dev))
    return table
