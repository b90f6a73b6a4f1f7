"""snip, grad_norm, plain and fisher of many NB201 supernet candidates in one pass.

The population runs as stacked rows ``[P, B, C, H, W]`` (row i: candidate i), one call per edge
op and cell for all the candidates that use it: the rows are gathered
(``torch.ops.nasfast.gather_rows``, ReLU fused), convolved with the supernet's weight, normalised
per row (BatchNorm on each candidate's own batch statistics, as in training mode) and summed
into the next node (``torch.ops.nasfast.gather_sum``). One backward pass of the summed losses
gives every row its own candidate's gradient; the weight layers
(:mod:`nasfast.estimate.zero_cost.candidate_layers`) turn them into per-candidate weight
gradients and proxy terms without forming a summed weight gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from nasfast.estimate.zero_cost.candidate_layers import (
    BATCHED,
    CandidateConv,
    CandidateLinear,
    SaliencySums,
)
from nasfast.estimate.zero_cost.nb201_synflow import _pool2, _pool3, per_row
from nasfast.nn.darts_primitives import ReLUConvBN
from nasfast.nn.nb201_layers import ResBlock, SupernetCell
from nasfast.nn.nb201_supernet import NB201Supernet
from nasfast.ops.row_gather import gather_rows, gather_sum
from nasfast.spaces.nb201 import CONV1, CONV3, EDGES, POOL, SKIP


def bn_rows(y: torch.Tensor, bn: torch.nn.BatchNorm2d) -> torch.Tensor:
    """BatchNorm of rows ``[n, B, C, H, W]``, each row on its own batch statistics: one
    ``F.batch_norm`` over the rows' channels side by side (``[B, n * C, H, W]``)."""
    n, B, C = y.shape[:3]
    z = y.transpose(0, 1).reshape(B, n * C, *y.shape[3:])
    w, b = bn.weight.detach().repeat(n), bn.bias.detach().repeat(n)
    out = F.batch_norm(z, None, None, w, b, True, 0.0, bn.eps)
    return out.view(B, n, C, *y.shape[3:]).transpose(0, 1).contiguous()


class _Runner:
    def __init__(self, net: NB201Supernet, codes: np.ndarray, sums: SaliencySums, backend: str):
        self.net, self.codes, self.sums, self.backend = net, codes, sums, backend
        self.device = net.stem_conv.weight.device
        self.all = torch.arange(len(codes), device=self.device)

    def conv(self, conv: torch.nn.Conv2d, x: torch.Tensor, cands: torch.Tensor) -> torch.Tensor:
        w = conv.weight.detach()
        return CandidateConv.apply(x, w, cands, self.sums, conv.stride, conv.padding)

    def rcb(self, m: ReLUConvBN, x: torch.Tensor, cands: torch.Tensor) -> torch.Tensor:
        return bn_rows(self.conv(m.conv, x, cands), m.bn)

    def cell(self, cell: SupernetCell, h: torch.Tensor) -> torch.Tensor:
        nodes = [h]
        P = len(self.codes)
        for d in (1, 2, 3):
            srcs, maps = [], []
            for e, (dst, s) in enumerate(EDGES):
                if dst != d:
                    continue
                for op in (SKIP, CONV1, CONV3, POOL):
                    sel = np.nonzero(self.codes[:, e] == op)[0]
                    if len(sel) == 0:
                        continue
                    m = np.full(P, -1, dtype=np.int64)
                    if op == SKIP:
                        m[sel] = sel
                        srcs.append(nodes[s])
                    else:
                        m[sel] = np.arange(len(sel))
                        idx = torch.from_numpy(sel).to(self.device)
                        x = gather_rows(nodes[s], idx, relu=op != POOL, backend=self.backend)
                        if op == POOL:
                            srcs.append(per_row(x, _pool3))
                        else:
                            conv = (cell.conv1 if op == CONV1 else cell.conv3)[e]
                            srcs.append(self.rcb(conv, x, idx))
                    maps.append(m)
            if srcs:
                stacked = torch.from_numpy(np.stack(maps)).to(self.device)
                nodes.append(gather_sum(srcs, stacked, backend=self.backend))
            else:
                nodes.append(torch.zeros_like(h))
        return nodes[3]

    def resblock(self, block: ResBlock, h: torch.Tensor) -> torch.Tensor:
        a = self.rcb(block.conv_a, F.relu(h), self.all)
        b = self.rcb(block.conv_b, F.relu(a), self.all)
        return b + self.conv(block.shortcut, per_row(h, _pool2), self.all)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        rows = x.unsqueeze(0).expand(len(self.codes), *x.shape).contiguous()
        h = bn_rows(self.conv(net.stem_conv, rows, self.all), net.stem_bn)
        for layer in net.layers:
            h = self.cell(layer, h) if isinstance(layer, SupernetCell) else self.resblock(layer, h)
        feats = F.relu(bn_rows(h, net.last_bn)).mean(dim=(3, 4))
        fc = net.classifier
        return CandidateLinear.apply(feats, fc.weight.detach(), fc.bias.detach(), self.all,
                                     self.sums)  # fmt: skip


def saliency_candidates(
    net: NB201Supernet,
    archs: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
    chunk: int = 64,
    backend: str = "fused",
) -> dict[str, torch.Tensor]:
    """``{proxy: [P] scores}`` for snip, grad_norm, plain and fisher of the candidates
    ``archs`` ([P, 6], validated) of ``net`` on the minibatch ``(x, y)``, each candidate with
    the supernet's weights for its ops and BatchNorm on batch statistics."""
    uniq, inverse = torch.unique(archs, dim=0, return_inverse=True)
    codes = uniq.numpy()
    out: dict[str, list[torch.Tensor]] = {name: [] for name in BATCHED}
    for i in range(0, len(codes), chunk):
        part = codes[i : i + chunk]
        sums = SaliencySums(len(part), x.dtype, x.device)
        xr = x.detach().requires_grad_(True)
        logits = _Runner(net, part, sums, backend).logits(xr)
        loss = sum(loss_fn(logits[k], y) for k in range(len(part)))
        torch.autograd.grad(loss, xr)
        for name in BATCHED:
            out[name].append(sums.sums[name])
    return {name: torch.cat(v).cpu()[inverse] for name, v in out.items()}
