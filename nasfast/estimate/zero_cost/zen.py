"""zen: the Zen-NAS expressivity score."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from nasfast.estimate.zero_cost.inputs import Batch
from nasfast.estimate.zero_cost.model_utils import forward, param_device, param_dtype
from nasfast.estimate.zero_cost.registry import register_proxy

MIXUP_GAMMA = 1e-2


def gaussian_init(net: nn.Module) -> nn.Module:
    """Zen-NAS's initialisation: conv/linear weights N(0, 1), biases 0, norm layers 1 and 0,
    BatchNorm running statistics reset."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)):
                if m.weight is not None:
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
                    m.reset_running_stats()
    return net


def feature_map(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The features before global average pooling: ``net.forward_before_global_avg_pool(x)``
    when the model has it, else the input of its last ``nn.AdaptiveAvgPool2d`` call."""
    if hasattr(net, "forward_before_global_avg_pool"):
        return net.forward_before_global_avg_pool(x)
    pools = [m for m in net.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
    if not pools:
        raise ValueError(
            "model: zen needs the features before global pooling: an nn.AdaptiveAvgPool2d "
            "module or a forward_before_global_avg_pool method"
        )
    seen: list[torch.Tensor] = []
    handles = [p.register_forward_hook(lambda _m, i, _o: seen.append(i[0])) for p in pools]
    try:
        forward(net, x)
    finally:
        for h in handles:
            h.remove()
    if not seen:
        raise ValueError("model: zen found no call of the model's nn.AdaptiveAvgPool2d")
    return seen[-1]


@register_proxy(
    "zen",
    needs_data=False,
    needs_labels=False,
    citation="Lin, Wang, Sun, Chen, Sun, Qian, Li & Jin, Zen-NAS: A zero-shot NAS for "
    "high-performance image recognition, ICCV 2021",
)
def zen(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """Zen-score (Lin et al., ICCV 2021): on a copy with Gaussian weights in training mode,
    ``log E_n sum |F(x) - F(x + 0.01 eps)|`` of the pre-pooling features ``F`` for Gaussian
    ``x`` and ``eps``, plus ``sum log sqrt(mean(running_var))`` over the BatchNorm layers.
    Data-free: random inputs of the batch's shape (use ``seed`` for a fixed draw)."""
    net = gaussian_init(copy.deepcopy(model)).train()
    shape = (batch.size, *batch.shape)
    kw = {"dtype": param_dtype(net), "device": param_device(net)}
    with torch.no_grad():
        x = torch.randn(shape, **kw)
        noise = torch.randn(shape, **kw)
        delta = feature_map(net, x) - feature_map(net, x + MIXUP_GAMMA * noise)
        score = torch.log(delta.abs().flatten(1).sum(1).mean())
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_var is not None:
                score = score + torch.log(torch.sqrt(m.running_var.mean()))
    return float(score)
