"""Peak memory of a network, computed from its graph on meta tensors (nothing is allocated).

The forward (and for training the backward and the optimizer step) runs on meta copies of the
parameters under a dispatch mode that sees every tensor an operator creates. A storage counts from
the operator that creates it until no Python object or autograd node holds it (a weak reference
to the storage expires), exactly when the caching-free CPU allocator would free it. The peak is
the largest sum of live storages right after an operator returns (its inputs and outputs live).

- inference: parameters + buffers + inputs + the largest set of live activations (no autograd);
- training, one steady-state step of ``forward, loss, backward, optimizer.step()``: the above
  plus the tensors saved for backward, the gradients and the optimizer state (SGD momentum: one
  copy of the parameters, Adam: two), with the temporaries of the step itself.

Kernels may hold memory for a moment inside one call (workspaces: the CPU convolutions
reorder into blocked layouts); ``workspaces=Workspaces(device)`` measures each distinct call's
excess once on the device and adds it at that call. Without it the peak is the graph's alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from nasfast.hardware.trace import check_inputs, meta_state, to_meta
from nasfast.hardware.workspace import Workspaces

OPTIMIZERS = ("sgd", "momentum", "adam")
_expired = torch.UntypedStorage._expired


def storage_bytes(tensors) -> int:
    seen: dict[int, int] = {}
    for t in tensors:
        s = t.untyped_storage()
        seen[s._cdata] = s.nbytes()
    return sum(seen.values())


class LiveStorages(TorchDispatchMode):
    """Tracks the bytes of live tensor storages across operator calls; ``peak`` the most.

    ``upper`` (the bytes of every storage seen, dead or alive) bounds the live bytes, so the
    live set is only swept when that bound passes the peak: the peak stays exact."""

    def __init__(self, workspaces: Workspaces | None = None) -> None:
        super().__init__()
        self.workspaces = workspaces
        self.live: dict[int, tuple[StorageWeakRef, int]] = {}
        self.upper = 0
        self.peak = 0

    def add(self, tensors) -> None:
        for t in tensors:
            if isinstance(t, torch.Tensor):
                s = t.untyped_storage()
                if s._cdata not in self.live:
                    n = s.nbytes()
                    self.live[s._cdata] = (StorageWeakRef(s), n)
                    self.upper += n

    def current(self) -> int:
        expired = _expired
        dead = [k for k, (ref, _) in self.live.items() if expired(ref.cdata)]
        for k in dead:
            del self.live[k]
        self.upper = sum(n for _, n in self.live.values())
        return self.upper

    def sample(self, extra: int = 0) -> None:
        if self.upper + extra > self.peak:
            self.peak = max(self.peak, self.current() + extra)

    def reset_peak(self) -> None:
        self.peak = 0
        self.current()
        self.sample()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        self.add(tree_flatten(out)[0])
        self.sample(self.workspaces.of(func, args, kwargs) if self.workspaces else 0)
        return out


@dataclass
class MemoryEstimate:
    """Bytes; ``peak`` is the total at the peak, the rest describe what persists."""

    peak: int
    params: int
    buffers: int
    inputs: int
    optimizer_state: int = 0
    mode: str = "inference"
    phases: dict[str, int] = field(default_factory=dict)  # training: peak of each phase

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_loss(out: Any) -> torch.Tensor:
    """Cross-entropy against class 0 for ``[B, K]`` logits, else the sum of the first output."""
    if isinstance(out, (tuple, list)):
        out = out[0]
    if out.dim() == 2:
        target = torch.zeros(out.shape[0], dtype=torch.long, device=out.device)
        return F.cross_entropy(out, target)
    return out.sum()


def make_optimizer(name: str, params, lr: float = 0.01) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {name!r}")


def optimizer_state_tensors(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [v for st in opt.state.values() for v in st.values() if isinstance(v, torch.Tensor)]


def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected an nn.Module, got {type(model).__name__}")
    return model


def inference_memory(
    model: nn.Module, inputs: Any, workspaces: Workspaces | None = None
) -> MemoryEstimate:
    """Peak bytes of ``model(*inputs)`` in eval mode without autograd (``inputs``: a shape,
    a tensor or a tuple of tensors)."""
    model = _check_model(model)
    args = tuple(to_meta(v) for v in check_inputs(inputs))
    state = meta_state(model)
    tracker = LiveStorages(workspaces)
    tracker.add(list(state.values()) + list(args))
    was = model.training
    model.eval()
    try:
        with torch.no_grad(), tracker:
            tracker.reset_peak()
            out = torch.func.functional_call(model, state, args, strict=False)
            tracker.sample()
    finally:
        model.train(was)
    del out
    return MemoryEstimate(
        peak=tracker.peak,
        params=storage_bytes(p for p in state.values() if p.requires_grad),
        buffers=storage_bytes(b for b in state.values() if not b.requires_grad),
        inputs=storage_bytes(args),
    )


def forward_backward(
    model: nn.Module,
    state: dict[str, torch.Tensor],
    args: tuple,
    loss_fn: Callable[[Any], torch.Tensor],
) -> None:
    out = torch.func.functional_call(model, state, args, strict=False)
    loss_fn(out).backward()


def optimizer_step(opt: torch.optim.Optimizer) -> None:
    opt.step()
    opt.zero_grad(set_to_none=True)


def training_memory(
    model: nn.Module,
    inputs: Any,
    optimizer: str = "momentum",
    loss_fn: Callable[[Any], torch.Tensor] = default_loss,
    workspaces: Workspaces | None = None,
) -> MemoryEstimate:
    """Peak bytes of one steady-state training step (the optimizer state already exists, the
    gradients were set to None after the previous step) in train mode."""
    model = _check_model(model)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    args = tuple(to_meta(v) for v in check_inputs(inputs))
    state = meta_state(model)
    params = [p for p in state.values() if p.requires_grad]
    opt = make_optimizer(optimizer, params)
    was = model.training
    model.train()
    try:
        forward_backward(model, state, args, loss_fn)  # creates the optimizer state
        optimizer_step(opt)
        tracker = LiveStorages(workspaces)
        persistent = optimizer_state_tensors(opt)
        tracker.add(list(state.values()) + list(args) + persistent)
        phases = {}
        with tracker:
            tracker.reset_peak()
            forward_backward(model, state, args, loss_fn)
            phases["forward_backward"] = tracker.peak
            tracker.reset_peak()
            optimizer_step(opt)
            phases["optimizer_step"] = tracker.peak
    finally:
        model.train(was)
    return MemoryEstimate(
        peak=max(phases.values()),
        params=storage_bytes(params),
        buffers=storage_bytes(b for b in state.values() if not b.requires_grad),
        inputs=storage_bytes(args),
        optimizer_state=storage_bytes(t for t in persistent if t.device.type == "meta"),
        mode=f"training/{optimizer}",
        phases=phases,
    )
