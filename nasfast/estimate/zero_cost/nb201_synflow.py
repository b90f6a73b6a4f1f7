"""synflow of many NB201 supernet candidates in one forward pass that shares work.

synflow's score is ``sum_theta |theta * dR/dtheta|`` over the conv/linear weights of the
BatchNorm-free network with absolute weights on an all-ones input. Every activation of that
network is non-negative, so every term is non-negative and the sum is the directional derivative
of ``R`` along the weights: ``sum theta * dR/dtheta = d/ds R((1 + s) theta) at s = 0``. That is
a forward-mode quantity: each activation carries a tangent ``t`` beside its value ``v`` (a
weight layer ``y = W v`` maps them to ``(W v, W (v + t))``; ReLU, pooling and sums are applied
to both). No backward pass is needed, and the value and tangent of a node are fixed by the same
things as the value alone, so the row sharing of ``nasfast.nn.nb201_batched`` (every distinct
node value across the population computed once) carries over unchanged.

The pass is linear in (value, tangent) of a layer's input, so after every layer each row is
divided by its largest value and the factor kept as a per-candidate log scale: the values stay
near 1 and the pass runs in float32 (which the NB201 network overflows unscaled) or float64.
Each non-zero row descends from one row of the previous layer, so a row's scale is well defined.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from nasfast.nn.nb201_batched import CellPlan, plan_cell
from nasfast.nn.nb201_layers import ResBlock, SupernetCell
from nasfast.nn.nb201_supernet import NB201Supernet
from nasfast.ops.row_gather import gather_rows, gather_sum
from nasfast.spaces.nb201 import CONV1, POOL, SKIP

Dual = tuple[torch.Tensor, torch.Tensor]  # value rows, tangent rows: [R, B, C, H, W] each


def _relu(d: Dual) -> Dual:
    v, t = d
    return F.relu(v), t * (v > 0)


class _DualRunner:
    def __init__(self, net: NB201Supernet, backend: str, dtype: torch.dtype):
        self.net, self.backend, self.dtype = net, backend, dtype
        self.weights: dict[int, torch.Tensor] = {}

    def weight(self, conv: torch.nn.Module) -> torch.Tensor:
        key = id(conv)
        if key not in self.weights:
            self.weights[key] = conv.weight.detach().abs().to(self.dtype)
        return self.weights[key]

    def conv(self, conv: torch.nn.Conv2d, d: Dual) -> Dual:
        """``(W v, W (v + t))`` in one convolution over both."""
        v, t = d
        n = v.shape[0]
        w = self.weight(conv)
        y = per_row(
            torch.cat([v, v + t]), lambda a: F.conv2d(a, w, None, conv.stride, conv.padding)
        )
        return y[:n], y[n:]

    def gather(self, d: Dual, rows: torch.Tensor | None) -> Dual:
        if rows is None:
            return d
        return gather_rows(d[0], rows, backend=self.backend), gather_rows(
            d[1], rows, backend=self.backend
        )

    def cell(self, cell: SupernetCell, h: Dual, plan: CellPlan) -> Dual:
        nodes = [h]
        for d in (1, 2, 3):
            srcs: list[Dual] = []
            for op in plan.ops[d]:
                x = nodes[op.src]
                if op.op == SKIP:
                    srcs.append(x)
                    continue
                x = self.gather(x, op.rows)
                if op.op == POOL:
                    srcs.append((per_row(x[0], _pool3), per_row(x[1], _pool3)))
                else:
                    conv = (cell.conv1 if op.op == CONV1 else cell.conv3)[op.edge].conv
                    srcs.append(self.conv(conv, _relu(x)))
            if srcs:
                maps = plan.maps[d]
                nodes.append(
                    (
                        gather_sum([s[0] for s in srcs], maps, backend=self.backend),
                        gather_sum([s[1] for s in srcs], maps, backend=self.backend),
                    )
                )
            else:
                shape = (plan.node_count[d], *h[0].shape[1:])
                nodes.append((h[0].new_zeros(shape), h[0].new_zeros(shape)))
        return nodes[3]

    def resblock(self, block: ResBlock, h: Dual) -> Dual:
        a = self.conv(block.conv_a.conv, _relu(h))
        b = self.conv(block.conv_b.conv, _relu(a))
        pooled = (per_row(h[0], _pool2), per_row(h[1], _pool2))
        s = self.conv(block.shortcut, pooled)
        return b[0] + s[0], b[1] + s[1]

    def head(self, h: Dual) -> torch.Tensor:
        v, t = _relu(h)
        fv, ft = v.mean(dim=(3, 4)), t.mean(dim=(3, 4))
        w = self.weight(self.net.classifier)
        return ((fv + ft) @ w.T).sum(dim=(1, 2))  # tangent of the logits, summed

    def chunk(self, stem: Dual, codes: np.ndarray) -> torch.Tensor:
        """log synflow (float64) of the candidates ``codes``."""
        rows, count = np.zeros(len(codes), dtype=np.int64), 1
        h = stem
        log_scale = torch.zeros(len(codes), dtype=torch.float64, device=stem[0].device)
        plans: dict[bytes, CellPlan] = {}
        for layer in self.net.layers:
            if isinstance(layer, SupernetCell):
                key = rows.tobytes()
                if key not in plans:
                    plans[key] = plan_cell(codes, rows, count, stem[0].device)
                plan = plans[key]
                h = self.cell(layer, h, plan)
                rows, count = plan.node_rows[3], plan.node_count[3]
            else:
                h = self.resblock(layer, h)
            h, row_log = _rescale(h)
            log_scale += row_log[torch.from_numpy(rows).to(log_scale.device)]
        t = self.head(h)[torch.from_numpy(rows).to(h[0].device)]
        return torch.log(t.double()) + log_scale


def _rescale(h: Dual) -> tuple[Dual, torch.Tensor]:
    """Rows divided by their largest value (all-zero rows kept), and the log of each factor."""
    v, t = h
    top = v.flatten(1).amax(1)
    top = torch.where(top > 0, top, torch.ones_like(top))
    s = top.view(-1, *([1] * (v.dim() - 1)))
    return (v / s, t / s), torch.log(top.double())


def per_row(x: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """``fn`` of an image op applied to rows ``[R, B, C, H, W]`` (as one batch of R * B)."""
    y = fn(x.flatten(0, 1))
    return y.view(x.shape[0], x.shape[1], *y.shape[1:])


def _pool3(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


def _pool2(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2, 2)


def synflow_candidates(
    net: NB201Supernet,
    archs: torch.Tensor,
    shape: tuple[int, int, int],
    *,
    chunk: int = 256,
    backend: str = "fused",
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """synflow (float64 ``[P]``) of the candidates ``archs`` ([P, 6], validated) of ``net``,
    each scored with the supernet's weights for its ops (BatchNorm removed, as synflow does).
    ``dtype``: of the pass (default: the supernet's)."""
    uniq, inverse = torch.unique(archs, dim=0, return_inverse=True)
    codes = uniq.numpy()
    runner = _DualRunner(net, backend, dtype or net.stem_conv.weight.dtype)
    device = net.stem_conv.weight.device
    x = torch.ones((1, *shape), dtype=runner.dtype, device=device)
    v = F.conv2d(x, runner.weight(net.stem_conv), None, 1, 1).unsqueeze(0)
    stem = (v, v)  # the input's tangent is 0: W (x + 0) = W x
    outs = [runner.chunk(stem, codes[i : i + chunk]) for i in range(0, len(codes), chunk)]
    return torch.exp(torch.cat(outs).cpu()[inverse])
