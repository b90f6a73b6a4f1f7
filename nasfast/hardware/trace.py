"""The ATen operations a forward pass runs, recorded on meta tensors (nothing computed).

Every operator call below autograd (``aten.convolution``, ``aten.add``, views, ...) becomes an
:class:`OpCall`: the operator, its arguments with tensors replaced by :class:`TensorSpec`
(shape, strides, dtype), and a ``key`` string naming the call. Two calls with the same key do
the same work, so a lookup table keyed by it prices any network made of known calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map

_DTYPE_NAMES = {
    torch.float32: "f32",
    torch.float64: "f64",
    torch.float16: "f16",
    torch.bfloat16: "bf16",
    torch.int64: "i64",
    torch.int32: "i32",
    torch.bool: "b8",
    torch.uint8: "u8",
}


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    offset: int
    dtype: torch.dtype

    @classmethod
    def of(cls, t: torch.Tensor) -> TensorSpec:
        return cls(tuple(t.shape), tuple(t.stride()), t.storage_offset(), t.dtype)

    def __repr__(self) -> str:
        name = _DTYPE_NAMES.get(self.dtype, str(self.dtype).removeprefix("torch."))
        text = f"{name}[{','.join(map(str, self.shape))}]"
        if self.stride != _contiguous_strides(self.shape) or self.offset:
            text += f"s({','.join(map(str, self.stride))})+{self.offset}"
        return text

    def storage_numel(self) -> int:
        if any(s == 0 for s in self.shape):
            return self.offset
        return self.offset + 1 + sum((n - 1) * s for n, s in zip(self.shape, self.stride))

    def materialize(self, device: torch.device | str) -> torch.Tensor:
        """A random tensor of this layout on ``device``."""
        n = max(self.storage_numel(), 1)
        if self.dtype.is_floating_point:
            base = torch.randn(n, dtype=self.dtype, device=device)
        elif self.dtype == torch.bool:
            base = torch.zeros(n, dtype=torch.bool, device=device)
        else:
            base = torch.randint(0, 2, (n,), dtype=self.dtype, device=device)
        return base.as_strided(self.shape, self.stride, self.offset)


def _contiguous_strides(shape: Sequence[int]) -> tuple[int, ...]:
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(out))


@dataclass(frozen=True)
class OpCall:
    """One operator call: replayable with :meth:`inputs` on any device."""

    func: Any
    args: tuple
    kwargs: dict = field(hash=False, compare=False)
    key: str = ""

    def inputs(self, device: torch.device | str) -> tuple[tuple, dict]:
        def real(v: Any) -> Any:
            if isinstance(v, TensorSpec):
                return v.materialize(device)
            if isinstance(v, torch.device):
                return torch.device(device)
            return v

        return tree_map(real, self.args), tree_map(real, self.kwargs)


def spec_of(v: Any) -> Any:
    return TensorSpec.of(v) if isinstance(v, torch.Tensor) else v


def call_key(func: Any, args: tuple, kwargs: dict) -> str:
    parts = [repr(a) for a in args]
    parts += [f"{k}={v!r}" for k, v in sorted(kwargs.items()) if k != "device"]
    return f"{func}({', '.join(parts)})"


class _Recorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[OpCall] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        spec_args, spec_kwargs = tree_map(spec_of, args), tree_map(spec_of, kwargs)
        self.calls.append(
            OpCall(func, spec_args, spec_kwargs, call_key(func, spec_args, spec_kwargs))
        )
        return func(*args, **kwargs)


@dataclass
class Trace:
    """The calls of one forward pass and the number of module calls it made."""

    calls: list[OpCall]
    module_calls: int


def meta_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Meta twins of the model's parameters and buffers (for ``functional_call``)."""
    out: dict[str, torch.Tensor] = {}
    for name, p in model.named_parameters():
        out[name] = torch.empty_like(p, device="meta").requires_grad_(p.requires_grad)
    for name, b in model.named_buffers():
        out[name] = torch.empty_like(b, device="meta")
    return out


def to_meta(v: Any) -> Any:
    """A meta tensor of ``v``'s layout (shape, strides, offset); non-tensors as they are."""
    if not isinstance(v, torch.Tensor) or v.device.type == "meta":
        return v
    spec = TensorSpec.of(v)
    return torch.empty(max(spec.storage_numel(), 1), dtype=v.dtype, device="meta").as_strided(
        spec.shape, spec.stride, spec.offset
    )


def check_inputs(inputs: Any) -> tuple:
    if isinstance(inputs, torch.Tensor):
        return (inputs,)
    if isinstance(inputs, (tuple, list)) and all(isinstance(v, torch.Tensor) for v in inputs):
        return tuple(inputs)
    if isinstance(inputs, (tuple, list)) and all(isinstance(v, int) for v in inputs):
        return (torch.empty(tuple(inputs), device="meta"),)
    raise ValueError(f"inputs: expected a tensor, a shape or a tuple of tensors, got {inputs!r}")


def count_module_calls(fn: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``fn`` and count the ``nn.Module`` calls it makes (each costs Python time)."""
    n = [0]

    def hook(module, args):
        n[0] += 1

    handle = nn.modules.module.register_module_forward_pre_hook(hook)
    try:
        out = fn()
    finally:
        handle.remove()
    return out, n[0]


def trace_forward(model: nn.Module, inputs: Any) -> Trace:
    """The ATen calls of ``model(*inputs)`` in eval mode without autograd, run on meta tensors;
    ``inputs`` is a tensor, a shape, or a tuple of tensors (only their layouts are used)."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected an nn.Module, got {type(model).__name__}")
    args = tuple(to_meta(v) for v in check_inputs(inputs))
    state = meta_state(model)
    was_training = model.training
    model.eval()
    rec = _Recorder()
    try:
        with torch.no_grad(), rec:
            _, n_modules = count_module_calls(
                lambda: torch.func.functional_call(model, state, args, strict=False)
            )
    finally:
        model.train(was_training)
    return Trace(rec.calls, n_modules)
