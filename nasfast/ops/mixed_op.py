"""The DARTS mixed operation: ``sum_k w_k * outputs[k]`` with ``w`` derived from ``alpha``.

The fused backend runs ``torch.ops.nasfast.mixed_op``: one pass over the K inputs forward (no K
temporaries), and one pass backward producing every ``w_k * grad`` and the K dot products
``<grad, outputs[k]>``. The O(K) map from ``alpha`` to ``w`` (softmax, Gumbel-softmax,
straight-through) runs as ordinary torch ops on the K-vector, so autograd applies its Jacobian to
the fused dot products.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch

import nasfast._ext  # noqa: F401  (registers torch.ops.nasfast)
from nasfast.ops._validate import (
    require_backend,
    require_floating,
    require_like,
    require_tensor,
)

Mode = Literal["softmax", "gumbel", "weights"]
Outputs = Sequence[torch.Tensor] | torch.Tensor


@torch.library.register_fake("nasfast::mixed_op")
def _mixed_op_fake(outputs: list[torch.Tensor], weights: torch.Tensor) -> torch.Tensor:
    return outputs[0].new_empty(outputs[0].shape)


@torch.library.register_fake("nasfast::mixed_op_backward")
def _mixed_op_backward_fake(
    grad: torch.Tensor,
    outputs: list[torch.Tensor],
    weights: torch.Tensor,
    outputs_requires_grad: bool,
    weights_requires_grad: bool,
) -> tuple[list[torch.Tensor], torch.Tensor]:
    grads = [grad.new_empty(grad.shape) for _ in outputs] if outputs_requires_grad else []
    return grads, weights.new_empty(weights.shape)


def _setup_context(ctx, inputs, output) -> None:
    outputs, weights = inputs
    ctx.num_outputs = len(outputs)
    ctx.save_for_backward(*outputs, weights)


def _backward(ctx, grad: torch.Tensor):
    *outputs, weights = ctx.saved_tensors
    need_outputs, need_weights = ctx.needs_input_grad[:2]
    if isinstance(need_outputs, (list, tuple)):
        need_outputs = any(need_outputs)
    grads, grad_weights = torch.ops.nasfast.mixed_op_backward(
        grad, outputs, weights, bool(need_outputs), bool(need_weights)
    )
    grads_out = list(grads) if need_outputs else [None] * ctx.num_outputs
    return grads_out, (grad_weights if need_weights else None)


torch.library.register_autograd("nasfast::mixed_op", _backward, setup_context=_setup_context)


def _as_list(outputs: Outputs) -> list[torch.Tensor]:
    if isinstance(outputs, torch.Tensor):
        if outputs.dim() < 1 or outputs.shape[0] == 0:
            raise ValueError(
                f"outputs: expected a stacked [K, ...] tensor with K >= 1, got shape "
                f"{tuple(outputs.shape)}"
            )
        return list(outputs.unbind(0))
    if not isinstance(outputs, (list, tuple)) or len(outputs) == 0:
        raise ValueError(
            "outputs: expected a non-empty list of tensors or a stacked [K, ...] tensor"
        )
    return list(outputs)


def _validate(outs: list[torch.Tensor], alpha: torch.Tensor) -> None:
    first = require_tensor(outs[0], "outputs[0]")
    require_floating(first, "outputs[0]")
    for k, o in enumerate(outs[1:], start=1):
        require_tensor(o, f"outputs[{k}]")
        require_like(o, first, f"outputs[{k}]", "outputs[0]")
        if o.shape != first.shape:
            raise ValueError(
                f"outputs[{k}]: expected shape {tuple(first.shape)} (as outputs[0]), "
                f"got {tuple(o.shape)}"
            )
    require_tensor(alpha, "alpha")
    if alpha.dim() != 1 or alpha.shape[0] != len(outs):
        raise ValueError(
            f"alpha: expected shape [{len(outs)}] (one value per output), got {tuple(alpha.shape)}"
        )
    require_floating(alpha, "alpha")
    require_like(alpha, first, "alpha", "outputs[0]")


def mixed_op_weights(
    alpha: torch.Tensor,
    *,
    mode: Mode = "softmax",
    tau: float = 1.0,
    hard: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The mixing weights ``w`` that ``mixed_op`` applies for these arguments.

    ``softmax``: ``softmax(alpha)``. ``gumbel``: ``softmax((alpha + g) / tau)`` with Gumbel noise
    ``g`` drawn from ``generator``; with ``hard=True`` the forward value is exactly one-hot at the
    argmax and the gradient is that of the soft weights (straight-through). ``weights``: ``alpha``.
    """
    if mode == "softmax":
        return torch.softmax(alpha, dim=0)
    if mode == "weights":
        return alpha
    if mode != "gumbel":
        raise ValueError(f"mode: expected 'softmax', 'gumbel' or 'weights', got {mode!r}")
    if not tau > 0:
        raise ValueError(f"tau: expected a positive temperature, got {tau}")
    noise = -torch.empty_like(alpha).exponential_(generator=generator).log()
    soft = torch.softmax((alpha + noise) / tau, dim=0)
    if not hard:
        return soft
    one_hot = torch.zeros_like(soft).scatter_(0, soft.argmax().reshape(1), 1.0)
    # soft - soft.detach() is exactly zero, so the forward value is exactly one-hot.
    return one_hot + (soft - soft.detach())


def mixed_op(
    outputs: Outputs,
    alpha: torch.Tensor,
    *,
    mode: Mode = "softmax",
    tau: float = 1.0,
    hard: bool = False,
    generator: torch.Generator | None = None,
    backend: Literal["fused", "reference"] = "fused",
) -> torch.Tensor:
    """``sum_k w_k * outputs[k]`` with ``w = mixed_op_weights(alpha, ...)``.

    ``outputs`` is a list of K same-shape tensors or one stacked ``[K, ...]`` tensor; ``alpha`` a
    ``[K]`` tensor of the same dtype and device. ``backend="reference"`` runs the pure-PyTorch twin.
    """
    require_backend(backend)
    outs = _as_list(outputs)
    _validate(outs, alpha)
    w = mixed_op_weights(alpha, mode=mode, tau=tau, hard=hard, generator=generator)
    if backend == "reference":
        return _weighted_sum_reference(outs, w)
    return torch.ops.nasfast.mixed_op(outs, w)


def mixed_op_reference(outputs: Outputs, alpha: torch.Tensor, **kwargs) -> torch.Tensor:
    """The pure-PyTorch twin of :func:`mixed_op` (same signature, same semantics)."""
    return mixed_op(outputs, alpha, **{**kwargs, "backend": "reference"})


def _weighted_sum_reference(outs: list[torch.Tensor], w: torch.Tensor) -> torch.Tensor:
    return sum(w[k] * o for k, o in enumerate(outs))
