"""Proxies that read the network and not its outputs: params, flops, l2_norm."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nasfast.estimate.zero_cost.inputs import Batch
from nasfast.estimate.zero_cost.model_utils import (
    forward,
    mode_restored,
    param_device,
    param_dtype,
    weight_layers,
)
from nasfast.estimate.zero_cost.registry import register_proxy


@register_proxy(
    "params",
    needs_data=False,
    needs_labels=False,
    citation="the parameter-count baseline of NAS-Bench-Suite-Zero (Krishnakumar et al., "
    "NeurIPS 2022 Datasets and Benchmarks)",
)
def params(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """Number of parameters (each shared tensor counted once)."""
    return float(sum(p.numel() for p in model.parameters()))


@register_proxy(
    "flops",
    needs_data=False,
    needs_labels=False,
    citation="the FLOPs baseline of NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 "
    "Datasets and Benchmarks)",
)
def flops(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """FLOPs of one forward pass of one input, as ``torch.utils.flop_counter`` counts them
    (convolutions and matrix products, a multiply-add counted as 2), in eval mode."""
    x = torch.zeros((1, *batch.shape), dtype=param_dtype(model), device=param_device(model))
    with mode_restored(model, training=False), torch.no_grad():
        counter = FlopCounterMode(display=False)
        with counter:
            forward(model, x)
    return float(counter.get_total_flops())


@register_proxy(
    "l2_norm",
    needs_data=False,
    needs_labels=False,
    citation="the weight-norm baseline of Abdelfattah et al., ICLR 2021 and "
    "NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 Datasets and Benchmarks)",
)
def l2_norm(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """``sum_l ||W_l||_2`` over the conv/linear layers (each weight's Euclidean norm)."""
    return float(sum(m.weight.detach().norm() for m in weight_layers(model, "l2_norm")))
