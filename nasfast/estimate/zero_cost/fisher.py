"""fisher: the Fisher-information channel saliency of the activations."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nasfast.estimate.zero_cost.inputs import Batch
from nasfast.estimate.zero_cost.model_utils import (
    logits,
    mode_restored,
    model_input,
    weight_layers,
)
from nasfast.estimate.zero_cost.registry import register_proxy


def fisher_term(act: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """``sum_k 0.5 * mean_n (sum_s a_nks * g_nks)^2`` of one layer's output ``a`` and its loss
    gradient ``g`` (``s`` runs over the spatial positions; none for a linear layer)."""
    prod = act * grad
    per_channel = prod.flatten(2).sum(2) if prod.dim() > 2 else prod
    return 0.5 * per_channel.pow(2).mean(0).sum()


@register_proxy(
    "fisher",
    needs_data=True,
    needs_labels=True,
    citation="Theis, Korshunova, Tejani & Huszar, Faster gaze prediction with dense networks "
    "and Fisher pruning, 2018; Turner, Crowley, O'Boyle, Storkey & Gray, BlockSwap, ICLR 2020",
)
def fisher(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """fisher (Theis et al. 2018; Turner et al., ICLR 2020): for every conv/linear layer output
    ``a`` (channel ``k``) and ``g = dL/da`` on one minibatch, ``0.5 * mean_n (sum_s a g)^2``,
    summed over channels and layers."""
    layers = weight_layers(model, "fisher")
    terms: list[torch.Tensor] = []

    def hook(_m: nn.Module, _inp: object, out: torch.Tensor) -> None:
        if isinstance(out, torch.Tensor) and out.requires_grad:
            out.register_hook(lambda g, a=out: terms.append(fisher_term(a.detach(), g)))

    with mode_restored(model, training=True):
        handles = [m.register_forward_hook(hook) for m in layers]
        try:
            x = model_input(model, batch.x).requires_grad_(True)
            y = batch.y.to(x.device)
            loss = loss_fn(logits(model, x, y), y)
            loss.backward(inputs=[x])
        finally:
            for h in handles:
                h.remove()
    return float(sum(terms)) if terms else 0.0
