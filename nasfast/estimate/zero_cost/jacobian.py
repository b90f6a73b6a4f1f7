"""Proxies on the input Jacobian of a minibatch: jacov and epe_nas."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nasfast.estimate.zero_cost.inputs import Batch
from nasfast.estimate.zero_cost.model_utils import forward, mode_restored, model_input
from nasfast.estimate.zero_cost.registry import register_proxy

EPS = 1e-5


def input_jacobian(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Rows ``d sum(f(x_n)) / d x_n`` (flattened, float64) and the number of outputs per input,
    with the model in training mode."""
    with mode_restored(model, training=True):
        x = model_input(model, x).detach().requires_grad_(True)
        out = forward(model, x)
        (jac,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
    if jac is None:
        jac = torch.zeros_like(x)
    return jac.reshape(x.shape[0], -1).double(), out.shape[-1]


def jacov_from_jacobian(jac: torch.Tensor) -> float:
    """``-sum_i log(v_i + k) + 1 / (v_i + k)`` over the eigenvalues ``v`` of the inputs'
    Jacobian correlation matrix, ``k = 1e-5``."""
    corr = torch.corrcoef(jac)
    if not bool(torch.isfinite(corr).all()):
        return float("nan")  # a constant Jacobian row has no correlation
    v = torch.linalg.eigvalsh(corr)
    return float(-(torch.log(v + EPS) + 1.0 / (v + EPS)).sum())


@register_proxy(
    "jacov",
    needs_data=True,
    needs_labels=False,
    citation="Mellor, Turner, Storkey & Crowley, Neural architecture search without training, "
    "arXiv:2006.04647v1, 2020",
)
def jacov(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """jacov (Mellor et al., arXiv:2006.04647v1): the Jacobian covariance score of the
    minibatch (see :func:`jacov_from_jacobian`); NaN when a Jacobian row is constant."""
    jac, _ = input_jacobian(model, batch.x)
    if jac.shape[0] < 2:
        raise ValueError(f"batch: jacov needs at least 2 inputs, got {jac.shape[0]}")
    return jacov_from_jacobian(jac)


def epe_from_jacobian(jac: torch.Tensor, labels: torch.Tensor, n_classes: int) -> float:
    """EPE-NAS score: per class c, ``s_c = sum log(|corr(J_c)| + k)``; the score is
    ``sum_c |s_c|`` for up to 100 classes, else ``sum_{c,c'} |s_c - s_c'| / #classes`` with
    each ``s_c`` divided by its class size."""
    per_class = []
    for c in torch.unique(labels):
        rows = jac[labels == c]
        corr = torch.corrcoef(rows) if rows.shape[0] > 1 else torch.ones(1, 1, dtype=jac.dtype)
        s = torch.log(corr.abs() + EPS).sum()
        per_class.append(s / corr.shape[0] if n_classes > 100 else s)
    s = torch.stack(per_class)
    if n_classes <= 100:
        return float(s.abs().sum())
    return float((s[:, None] - s[None, :]).abs().sum() / len(s))


@register_proxy(
    "epe_nas",
    needs_data=True,
    needs_labels=True,
    citation="Lopes, Santos & Alexandre, EPE-NAS: Efficient performance estimation without "
    "training for neural architecture search, ICANN 2021",
)
def epe_nas(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """EPE-NAS (Lopes et al., ICANN 2021): correlations of the input Jacobians within each
    class of the minibatch (see :func:`epe_from_jacobian`)."""
    jac, n_out = input_jacobian(model, batch.x)
    return epe_from_jacobian(jac, batch.y.to(jac.device), n_out)
