"""Loss-gradient saliencies of the weights: snip, grad_norm, plain, grasp.

All four score the weights of the convolution and linear layers from the gradient of the loss
on one minibatch, with the network in training mode (BatchNorm on batch statistics), and sum
the per-weight (or per-layer) values into one number, as NAS-Bench-Suite-Zero (Krishnakumar et
al., NeurIPS 2022 Datasets and Benchmarks) and Abdelfattah et al. (ICLR 2021) define them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nasfast.estimate.zero_cost.inputs import Batch
from nasfast.estimate.zero_cost.model_utils import (
    logits,
    mode_restored,
    model_input,
    weight_grads,
    weight_layers,
)
from nasfast.estimate.zero_cost.registry import register_proxy


def _loss(model: nn.Module, batch: Batch, loss_fn: Callable) -> torch.Tensor:
    x = model_input(model, batch.x)
    y = batch.y.to(x.device)
    return loss_fn(logits(model, x, y), y)


def _weights_and_grads(
    model: nn.Module, batch: Batch, loss_fn: Callable, proxy: str
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    weights = [m.weight for m in weight_layers(model, proxy)]
    with mode_restored(model, training=True):
        for w in weights:
            w.requires_grad_(True)
        grads = weight_grads(_loss(model, batch, loss_fn), weights)
    return [w.detach() for w in weights], grads


@register_proxy(
    "snip",
    needs_data=True,
    needs_labels=True,
    citation="Lee, Ajanthan & Torr, SNIP: Single-shot network pruning based on connection "
    "sensitivity, ICLR 2019",
)
def snip(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """SNIP (Lee et al., ICLR 2019): ``sum |theta * dL/dtheta|`` over conv/linear weights."""
    weights, grads = _weights_and_grads(model, batch, loss_fn, "snip")
    return float(sum((w * g).abs().sum() for w, g in zip(weights, grads)))


@register_proxy(
    "grad_norm",
    needs_data=True,
    needs_labels=True,
    citation="Abdelfattah, Mehrotra, Dudziak & Lane, Zero-cost proxies for lightweight NAS, "
    "ICLR 2021",
)
def grad_norm(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """grad_norm (Abdelfattah et al., ICLR 2021): ``sum_l ||dL/dW_l||_2`` over conv/linear
    layers (the Euclidean norm of each layer's weight gradient, summed)."""
    _, grads = _weights_and_grads(model, batch, loss_fn, "grad_norm")
    return float(sum(g.norm() for g in grads))


@register_proxy(
    "plain",
    needs_data=True,
    needs_labels=True,
    citation="Mozer & Smolensky, Skeletonization, NeurIPS 1989; as a zero-cost proxy in "
    "Abdelfattah et al., ICLR 2021",
)
def plain(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """plain (Mozer & Smolensky, NeurIPS 1989; Abdelfattah et al., ICLR 2021):
    ``sum theta * dL/dtheta`` over conv/linear weights (no absolute value)."""
    weights, grads = _weights_and_grads(model, batch, loss_fn, "plain")
    return float(sum((w * g).sum() for w, g in zip(weights, grads)))


@register_proxy(
    "grasp",
    needs_data=True,
    needs_labels=True,
    citation="Wang, Zhang & Grosse, Picking winning tickets before training by preserving "
    "gradient flow, ICLR 2020",
)
def grasp(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """GraSP (Wang et al., ICLR 2020): ``-sum theta * (H g)`` over conv/linear weights, with
    ``g = dL/dtheta`` and ``H`` the Hessian of the loss (a Hessian-gradient product)."""
    weights = [m.weight for m in weight_layers(model, "grasp")]
    with mode_restored(model, training=True):
        for w in weights:
            w.requires_grad_(True)
        grads = weight_grads(_loss(model, batch, loss_fn), weights, create_graph=True)
        z = sum((g.detach() * g).sum() for g in grads if g.requires_grad)
        if not isinstance(z, torch.Tensor):
            return 0.0  # the loss is linear in every weight: H g = 0
        hg = weight_grads(z, weights)
    return float(-sum((w.detach() * h).sum() for w, h in zip(weights, hg)))
