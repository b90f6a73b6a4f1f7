"""Helpers the proxies share: weight layers, running a model on a batch, keeping it unchanged."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

WEIGHT_LAYERS = (nn.modules.conv._ConvNd, nn.Linear)


def weight_layers(model: nn.Module, proxy: str) -> list[nn.Module]:
    """The convolution and linear layers, whose weights the parameter-wise proxies score."""
    layers = [m for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]
    if not layers:
        raise ValueError(f"model: {proxy} needs at least one convolution or nn.Linear layer")
    return layers


def param_dtype(model: nn.Module) -> torch.dtype:
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.get_default_dtype()


def param_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


@contextlib.contextmanager
def mode_restored(model: nn.Module, training: bool = True) -> Iterator[nn.Module]:
    """Runs ``model`` in training mode (BatchNorm on the batch's statistics, as the proxies'
    papers score at initialisation) or eval mode, and restores its modes, buffers and the
    ``requires_grad`` flags of its parameters afterwards."""
    modes = {m: m.training for m in model.modules()}
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    model.train(training)
    try:
        yield model
    finally:
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        for m, mode in modes.items():
            m.training = mode
        for p, flag in flags:
            p.requires_grad_(flag)


def forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``model(x)`` as one tensor (the first of a tuple output), shape errors as a ValueError."""
    try:
        out = model(x)
    except (RuntimeError, ValueError, IndexError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"batch: the model rejected inputs of shape {tuple(x.shape)} ({first})"
        ) from None
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        raise ValueError(
            f"model: expected a floating-point tensor output, got {type(out).__name__}"
        )
    return out


def logits(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """Class scores ``[B, K]`` of the model, checked against the labels."""
    out = forward(model, x)
    if out.dim() != 2 or out.shape[0] != x.shape[0]:
        raise ValueError(
            f"model: expected class scores of shape [{x.shape[0]}, K], got {tuple(out.shape)}"
        )
    if y is not None and int(y.max()) >= out.shape[1]:
        raise ValueError(
            f"batch: expected labels y in [0, {out.shape[1]}) for a model with {out.shape[1]} "
            f"outputs, got {int(y.max())}"
        )
    return out


def model_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` on the model's device and in its parameters' dtype."""
    return x.to(device=param_device(model), dtype=param_dtype(model))


def remove_batchnorm(model: nn.Module) -> nn.Module:
    """Replaces every BatchNorm module of ``model`` by an identity, in place."""
    for name, child in list(model.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            remove_batchnorm(child)
    return model


def weight_grads(
    loss: torch.Tensor, weights: list[torch.Tensor], create_graph: bool = False
) -> list[torch.Tensor]:
    """d loss / d weight for each weight (zeros for a weight the loss does not depend on)."""
    grads = torch.autograd.grad(loss, weights, allow_unused=True, create_graph=create_graph)
    return [torch.zeros_like(w) if g is None else g for w, g in zip(weights, grads)]
