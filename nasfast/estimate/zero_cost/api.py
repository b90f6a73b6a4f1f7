"""Scoring a model, or many, by a zero-cost proxy name."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nasfast.estimate.zero_cost.inputs import Batch, as_batch
from nasfast.estimate.zero_cost.registry import Proxy, get_proxy


def check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if next(model.parameters(), None) is None:
        raise ValueError("model: expected an nn.Module with parameters, got one with none")
    return model


def check_batch_for(proxy: Proxy, batch: Batch) -> Batch:
    if proxy.needs_data and batch.x is None:
        raise ValueError(
            f"batch: {proxy.name} needs a minibatch of real inputs (x, y), got only the input "
            f"shape {batch.shape}"
        )
    if proxy.needs_labels and batch.y is None:
        raise ValueError(f"batch: {proxy.name} needs labels: pass the minibatch as (x, y)")
    return batch


def check_seed(seed: object) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed: expected an int or None, got {seed!r}")
    return seed


def finite(value: float, proxy: str, allow_nan: bool) -> float:
    if not allow_nan and not math.isfinite(value):
        raise ValueError(
            f"score: {proxy} is {value} for this model and batch (pass allow_nan=True to keep "
            "non-finite scores)"
        )
    return value


def score(
    model: nn.Module,
    batch_or_shape: object,
    proxy: str,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    seed: int | None = None,
    allow_nan: bool = False,
) -> float:
    """The zero-cost score of ``model`` by ``proxy`` (a name in ``PROXIES``).

    ``batch_or_shape``: a minibatch ``(x, y)`` (``y``: class labels; may be ``None`` for the
    proxies that need no labels), a tensor ``x``, or, for the data-free proxies (synflow, zen,
    params, flops, l2_norm), an input shape ``(C, H, W)`` or ``(B, C, H, W)``. ``loss_fn``:
    the loss of the gradient proxies (default cross-entropy). ``seed`` fixes the random draws
    (zen's weights and inputs). The model is left unchanged (modes, buffers, weights).
    A non-finite score raises ``ValueError`` unless ``allow_nan``.
    """
    p = get_proxy(proxy)
    check_model(model)
    batch = check_batch_for(p, as_batch(batch_or_shape))
    loss = F.cross_entropy if loss_fn is None else loss_fn
    if not callable(loss):
        raise ValueError(f"loss_fn: expected a callable (logits, labels) -> loss, got {loss!r}")
    if check_seed(seed) is None:
        value = p.fn(model, batch, loss)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            value = p.fn(model, batch, loss)
    return finite(float(value), p.name, allow_nan)


def score_models(
    models: Iterable[nn.Module],
    batch_or_shape: object,
    proxies: str | Sequence[str],
    **kwargs,
) -> dict[str, list[float]]:
    """Scores of every model by every proxy: ``{proxy: [score per model]}``."""
    names = [proxies] if isinstance(proxies, str) else list(proxies)
    if not names:
        raise ValueError("proxies: expected at least one proxy name")
    for name in names:
        get_proxy(name)
    out: dict[str, list[float]] = {name: [] for name in names}
    for model in models:
        for name in names:
            out[name].append(score(model, batch_or_shape, name, **kwargs))
    return out
