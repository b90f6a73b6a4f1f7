"""Weight layers over stacked candidates that share a weight but need their own gradients.

Rows ``[n, B, ...]`` belong to ``n`` candidates (``cands``: their indices in the population) and
run through one convolution (or linear layer) with the shared weight. The backward pass returns
the input gradient as usual and, instead of the weight gradient summed over candidates, hands
each candidate's own weight gradient (and the layer's output with its gradient) to a
:class:`SaliencySums`, which adds the per-candidate snip / grad_norm / plain / fisher terms.
"""

from __future__ import annotations

import torch

BATCHED = ("snip", "grad_norm", "plain", "fisher")


class SaliencySums:
    """Per-candidate sums ``[P]`` of the loss-gradient proxies over the weight layers."""

    def __init__(self, P: int, dtype: torch.dtype, device: torch.device):
        self.sums = {name: torch.zeros(P, dtype=dtype, device=device) for name in BATCHED}

    def add_weight(self, cands: torch.Tensor, w: torch.Tensor, gw: torch.Tensor) -> None:
        """``gw``: ``[n, *w.shape]``, the weight gradient of each candidate in ``cands``."""
        prod = (w.unsqueeze(0) * gw).flatten(1)
        self.sums["snip"].index_add_(0, cands, prod.abs().sum(1))
        self.sums["plain"].index_add_(0, cands, prod.sum(1))
        self.sums["grad_norm"].index_add_(0, cands, gw.flatten(1).norm(dim=1))

    def add_fisher(self, cands: torch.Tensor, act: torch.Tensor, grad: torch.Tensor) -> None:
        """``act``, ``grad``: a layer's output rows ``[n, B, ...]`` and their loss gradient;
        the fisher term of :func:`nasfast.estimate.zero_cost.fisher.fisher_term` per row."""
        prod = act * grad
        per_channel = prod.flatten(3).sum(3) if prod.dim() > 3 else prod  # [n, B, C]
        self.sums["fisher"].index_add_(0, cands, 0.5 * per_channel.pow(2).mean(1).sum(1))


class CandidateConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, cands, sums, stride, padding):
        n, B = x.shape[:2]
        y = torch.nn.functional.conv2d(x.flatten(0, 1), weight, None, stride, padding)
        y = y.view(n, B, *y.shape[1:])
        ctx.save_for_backward(x, weight, y)
        ctx.cands, ctx.sums, ctx.stride, ctx.padding = cands, sums, stride, padding
        return y

    @staticmethod
    def backward(ctx, gy):
        x, weight, y = ctx.saved_tensors
        n, B = x.shape[:2]
        gy = gy.contiguous()
        conv_args = (ctx.stride, ctx.padding, (1, 1), False, (0, 0))
        gx = None
        if ctx.needs_input_grad[0]:
            gx = torch.ops.aten.convolution_backward(
                gy.flatten(0, 1), x.flatten(0, 1), weight, None, *conv_args, 1,
                (True, False, False),
            )[0].view(x.shape)  # fmt: skip
        # each candidate's weight gradient: a grouped convolution with one group per candidate
        xg = x.transpose(0, 1).reshape(B, -1, *x.shape[3:])
        gg = gy.transpose(0, 1).reshape(B, -1, *gy.shape[3:])
        gw = torch.ops.aten.convolution_backward(
            gg, xg, weight.repeat(n, 1, 1, 1), None, *conv_args, n, (False, True, False)
        )[1].view(n, *weight.shape)
        ctx.sums.add_weight(ctx.cands, weight, gw)
        ctx.sums.add_fisher(ctx.cands, y, gy)
        return gx, None, None, None, None, None


class CandidateLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, cands, sums):
        z = x @ weight.T + bias
        ctx.save_for_backward(x, weight, z)
        ctx.cands, ctx.sums = cands, sums
        return z

    @staticmethod
    def backward(ctx, gz):
        x, weight, z = ctx.saved_tensors
        ctx.sums.add_weight(ctx.cands, weight, gz.transpose(1, 2) @ x)
        ctx.sums.add_fisher(ctx.cands, z, gz)
        return gz @ weight, None, None, None, None
