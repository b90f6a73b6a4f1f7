"""nwot: the NASWOT score of the ReLU activation patterns of a minibatch."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nasfast.estimate.zero_cost.inputs import Batch
from nasfast.estimate.zero_cost.model_utils import forward, mode_restored, model_input
from nasfast.estimate.zero_cost.registry import register_proxy


def hamming_kernel(codes: torch.Tensor) -> torch.Tensor:
    """``K_ij = N_A - d_H(c_i, c_j)`` of binary codes ``[B, N_A]`` (float64)."""
    c = codes.double()
    return c @ c.T + (1.0 - c) @ (1.0 - c).T


@register_proxy(
    "nwot",
    needs_data=True,
    needs_labels=False,
    citation="Mellor, Turner, Storkey & Crowley, Neural architecture search without training, "
    "ICML 2021",
)
def nwot(model: nn.Module, batch: Batch, loss_fn: Callable) -> float:
    """NASWOT (Mellor et al., ICML 2021): every input's binary code says which units enter the
    ``nn.ReLU`` modules positive; the score is ``log |det K|`` of the Hamming kernel
    ``K_ij = N_A - d_H(c_i, c_j)`` summed over the ReLU modules. ReLUs called as functions
    (``F.relu``) are not seen."""
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError("model: nwot needs nn.ReLU modules (functional relu is not seen)")
    n = batch.x.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.float64)

    def hook(_m: nn.Module, inp: tuple[torch.Tensor, ...], _out: object) -> None:
        nonlocal kernel
        codes = (inp[0].detach().reshape(n, -1) > 0).cpu()
        kernel = kernel + hamming_kernel(codes)

    with mode_restored(model, training=True), torch.no_grad():
        handles = [m.register_forward_hook(hook) for m in relus]
        try:
            forward(model, model_input(model, batch.x))
        finally:
            for h in handles:
                h.remove()
    return float(torch.linalg.slogdet(kernel).logabsdet)
