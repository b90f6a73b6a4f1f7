"""synflow: the data-free synaptic-flow saliency."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from nasfast.estimate.zero_cost.inputs import Batch
from nasfast.estimate.zero_cost.model_utils import (
    forward,
    param_device,
    remove_batchnorm,
    weight_grads,
    weight_layers,
)
from nasfast.estimate.zero_cost.registry import register_proxy


def synflow_network(model: nn.Module) -> nn.Module:
    """The network synflow scores: a float64 copy of ``model`` without BatchNorm, every
    parameter and buffer replaced by its absolute value, in eval mode (no dropout)."""
    net = remove_batchnorm(copy.deepcopy(model)).double().eval()
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.is_floating_point():
                t.abs_()
    return net


@register_proxy(
    "synflow",
    needs_data=False,
    needs_labels=False,
    citation="Tanaka, Kunin, Yamins & Ganguli, Pruning neural networks without any data by "
    "iteratively conserving synaptic flow, NeurIPS 2020; as a NAS proxy in Abdelfattah et al., "
    "ICLR 2021",
)
def synflow(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """synflow (Tanaka et al., NeurIPS 2020; Abdelfattah et al., ICLR 2021): with all weights
    replaced by their absolute values, BatchNorm removed and an all-ones input of one sample
    (float64), ``R = sum(f(1))`` and the score is ``sum |theta * dR/dtheta|`` over conv/linear
    weights. Data-free: only the input shape is used."""
    weight_layers(model, "synflow")
    net = synflow_network(model)
    weights = [m.weight for m in weight_layers(net, "synflow")]
    for w in weights:
        w.requires_grad_(True)
    x = torch.ones((1, *batch.shape), dtype=torch.float64, device=param_device(net))
    r = forward(net, x).sum()
    grads = weight_grads(r, weights)
    return float(sum((w.detach() * g).abs().sum() for w, g in zip(weights, grads)))
