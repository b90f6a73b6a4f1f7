"""Kernel workspaces: memory an operator allocates and frees inside one call on this device.

A graph only knows an operator's inputs and outputs; a kernel may hold more for a moment (the
CPU convolutions reorder their input and output into blocked layouts, for instance). Each
distinct call is run once on the device and its excess is recorded: the most bytes it held
during the call beyond what it still holds when it returns (its outputs). Calls are keyed like
the latency table's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils._pytree import tree_map

from nasfast.hardware.measure import memory_events
from nasfast.hardware.profile import check_device
from nasfast.hardware.trace import OpCall, call_key, spec_of

# operators whose call allocates nothing beyond their outputs (views, metadata, fills)
_NO_KERNEL = (
    "aten.view",
    "aten.t.",
    "aten.detach",
    "aten.expand",
    "aten._unsafe_view",
    "aten.empty",
    "aten.as_strided",
    "aten.slice",
    "aten.transpose",
    "aten.permute",
    "aten.unsqueeze",
    "aten.squeeze",
    "aten.alias",
    "aten.zeros",
    "aten.ones",
    "aten.ones_like",
    "aten.zeros_like",
    "aten.empty_like",
    "aten.new_",
)


def excess_bytes(call: OpCall, device: torch.device) -> int:
    args, kwargs = call.inputs(device)
    func = call.func
    func(*args, **kwargs)  # first call: one-time caches stay out of the measurement
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        out = func(*args, **kwargs)
        torch.cuda.synchronize(device)
        held = torch.cuda.memory_allocated(device) - before
        del out
        return max(0, torch.cuda.max_memory_allocated(device) - before - held)
    held: list[Any] = []
    cur = peak = 0
    for e in memory_events(lambda: held.append(func(*args, **kwargs))):
        cur += e.nbytes()
        peak = max(peak, cur)
    return max(0, peak - cur)


class Workspaces:
    """Excess bytes of operator calls on ``device``, measured on first sight and cached."""

    def __init__(self, device: torch.device | str = "cpu", known: dict[str, int] | None = None):
        self.device = check_device(device)
        self.bytes: dict[str, int] = dict(known or {})

    def of(self, func: Any, args: tuple, kwargs: dict) -> int:
        name = str(func)
        if name.startswith(_NO_KERNEL):
            return 0
        spec_args, spec_kwargs = tree_map(spec_of, args), tree_map(spec_of, kwargs)
        key = call_key(func, spec_args, spec_kwargs)
        if key not in self.bytes:
            with torch.no_grad():
                self.bytes[key] = excess_bytes(
                    OpCall(func, spec_args, spec_kwargs, key), self.device
                )
        return self.bytes[key]
