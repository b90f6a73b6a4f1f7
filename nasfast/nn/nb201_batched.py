"""Batched candidate evaluation of the NAS-Bench-201 supernet.

A population of candidates is run as stacked tensors ``[R, B, H, W, C]`` (channels last) whose R
rows are the *distinct* values of one node across the population, never one row per candidate:

1. Duplicate candidates are merged and the rest sorted (``torch.unique``), so candidates that
   share prefixes sit in the same chunk.
2. The stem runs once (all candidates read the same image batch); every cell input starts as
   that single row.
3. Inside a cell, node ``j``'s value is fixed by what flows into it: for each incoming edge, the
   op code and the row of the source node (or nothing for ``none``). Candidates with equal
   contributions get the same row (so equal arch prefixes in the first cell, duplicate
   suffixes, all-``none`` nodes, ... are computed once).
4. Per edge and op, the distinct source rows that some node row needs are gathered (ReLU fused
   into the gather for the convolutions) and the op runs once over all of them: one conv over
   ``len(rows) * B`` images, with BatchNorm folded into the conv weights in eval mode.
5. Each node is built by one fused gather-sum (``torch.ops.nasfast.gather_sum``): every row adds
   its contributions from the op outputs (and the skip sources) in one pass.

Between cells the rows are the distinct cell outputs; residual blocks and the head run over those
rows. Plans (the index bookkeeping) are small numpy computations, cached per cell input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasfast.nn.darts_primitives import ReLUConvBN
from nasfast.nn.nb201_layers import ResBlock, SupernetCell, avg_pool, folded
from nasfast.ops.row_gather import gather_rows, gather_sum
from nasfast.spaces.nb201 import CONV1, CONV3, EDGES, NONE, POOL, SKIP

# Bytes of one stacked cell-input tensor per chunk. On CPU larger chunks won in interleaved runs
# on the 2-core dev machine (fewer parallel regions; 32 MB is its L3), despite the caches.
CPU_CHUNK_BYTES = 32 << 20
CUDA_CHUNK_BYTES = 1 << 30


class Supernet(Protocol):
    """The parts of ``nasfast.nn.NB201Supernet`` the batched pass runs."""

    C: int
    N: int
    layers: nn.ModuleList
    last_bn: nn.BatchNorm2d
    classifier: nn.Linear

    def stem(self, x: torch.Tensor, bn: str) -> torch.Tensor: ...


@dataclass
class EdgeOp:
    edge: int
    op: int
    src: int  # source node
    rows: torch.Tensor | None  # distinct source rows the op runs on (None: all rows, in order)
    map: np.ndarray  # [R_dst]: row of the op output each destination row adds, or -1


@dataclass
class CellPlan:
    node_rows: list[np.ndarray]  # per node: the row of each candidate
    node_count: list[int]  # per node: number of distinct rows
    ops: list[list[EdgeOp]]  # per destination node 1..3 (index 0 unused)
    maps: list[torch.Tensor | None]  # per node: stacked maps for gather_sum


def plan_cell(codes: np.ndarray, rows: np.ndarray, count: int, device: torch.device) -> CellPlan:
    """Index bookkeeping of one cell for candidates ``codes`` [n, 6] whose inputs are ``rows``."""
    node_rows, node_count = [rows], [count]
    ops: list[list[EdgeOp]] = [[]]
    maps: list[torch.Tensor | None] = [None]
    for d in (1, 2, 3):
        incoming = [(e, s) for e, (dst, s) in enumerate(EDGES) if dst == d]
        cols = []
        for e, s in incoming:
            cols.append(codes[:, e])
            cols.append(np.where(codes[:, e] != NONE, node_rows[s], -1))
        keys = np.stack(cols, axis=1)
        _, rep, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        inv = inv.reshape(-1)
        R = len(rep)
        node_ops = []
        for e, s in incoming:
            op_of_row = codes[rep, e]
            src_of_row = node_rows[s][rep]
            for o in (SKIP, CONV1, CONV3, POOL):
                sel = np.nonzero(op_of_row == o)[0]
                if len(sel) == 0:
                    continue
                m = np.full(R, -1, dtype=np.int64)
                if o == SKIP:
                    m[sel] = src_of_row[sel]
                    node_ops.append(EdgeOp(e, o, s, None, m))
                    continue
                uniq, pos = np.unique(src_of_row[sel], return_inverse=True)
                m[sel] = pos.reshape(-1)
                identity = len(uniq) == node_count[s]  # uniq is sorted, so it is arange
                idx = None if identity else torch.from_numpy(uniq).to(device)
                node_ops.append(EdgeOp(e, o, s, idx, m))
        node_rows.append(inv)
        node_count.append(R)
        ops.append(node_ops)
        maps.append(
            torch.from_numpy(np.stack([op.map for op in node_ops])).to(device) if node_ops else None
        )
    return CellPlan(node_rows, node_count, ops, maps)


def _as_nchw(h: torch.Tensor) -> torch.Tensor:
    """Rows ``[R, B, H, W, C]`` (contiguous) as a channels-last ``[R * B, C, H, W]`` view."""
    return h.flatten(0, 1).permute(0, 3, 1, 2)


def _as_rows(y: torch.Tensor, rows: int) -> torch.Tensor:
    """A ``[rows * B, C, H, W]`` result as contiguous rows ``[rows, B, H, W, C]``."""
    y = y.permute(0, 2, 3, 1).contiguous()
    return y.view(rows, -1, *y.shape[1:])


class _Runner:
    """Runs the layers of ``net`` on stacked rows in one BN mode, with folded weights cached.

    Rows are stored as ``[R, B, H, W, C]`` (channels last): the convolutions run in channels-last
    layout (several times faster on CPU for the narrow NB201 channels) while each row stays one
    contiguous block for the gather/scatter ops.
    """

    def __init__(self, net: Supernet, mode: str, backend: str):
        self.net, self.mode, self.backend = net, mode, backend
        self._folded: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    # -- building blocks ------------------------------------------------------------------
    def bn_rows(self, y: torch.Tensor, bn: torch.nn.BatchNorm2d) -> torch.Tensor:
        """BatchNorm of stacked rows ``[R, B, H, W, C]``, statistics per row unless running."""
        if self.mode == "running":
            scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
            shift = bn.bias - bn.running_mean * scale
            return torch.addcmul(shift, y, scale)
        var, mean = torch.var_mean(y, dim=(1, 2, 3), keepdim=True, correction=0)
        if self.mode == "train":
            with torch.no_grad():
                n = y.shape[1] * y.shape[2] * y.shape[3]
                m = bn.momentum if bn.momentum is not None else 0.1
                bn.running_mean.mul_(1 - m).add_(mean.mean(0).flatten(), alpha=m)
                unbiased = var.mean(0).flatten() * (n / max(n - 1, 1))
                bn.running_var.mul_(1 - m).add_(unbiased, alpha=m)
                bn.num_batches_tracked.add_(1)
        return (y - mean) * (torch.rsqrt(var + bn.eps) * bn.weight) + bn.bias

    def relu_conv_bn(self, m: ReLUConvBN, x: torch.Tensor, relu_done: bool) -> torch.Tensor:
        """ReLU-Conv-BN over rows ``x`` [n, B, H, W, C] -> [n, B, H', W', C']."""
        if not relu_done:
            x = F.relu(x)
        conv, n = m.conv, x.shape[0]
        if self.mode == "running":
            key = id(m)
            if key not in self._folded:
                self._folded[key] = folded(m)
            w, b = self._folded[key]
            return _as_rows(F.conv2d(_as_nchw(x), w, b, conv.stride, conv.padding), n)
        y = F.conv2d(_as_nchw(x), conv.weight, None, conv.stride, conv.padding)
        return self.bn_rows(_as_rows(y, n), m.bn)

    def gather(self, x: torch.Tensor, idx: torch.Tensor, relu: bool) -> torch.Tensor:
        return gather_rows(x, idx, relu=relu, backend=self.backend)

    # -- layers ---------------------------------------------------------------------------
    def cell(self, cell: SupernetCell, h: torch.Tensor, plan: CellPlan) -> torch.Tensor:
        nodes = [h]
        for d in (1, 2, 3):
            srcs = []
            for op in plan.ops[d]:
                x = nodes[op.src]
                if op.op == SKIP:
                    srcs.append(x)
                elif op.op == POOL:
                    xg = x if op.rows is None else self.gather(x, op.rows, False)
                    srcs.append(_as_rows(avg_pool(_as_nchw(xg)), xg.shape[0]))
                else:
                    conv = cell.conv1[op.edge] if op.op == CONV1 else cell.conv3[op.edge]
                    if op.rows is None:
                        srcs.append(self.relu_conv_bn(conv, x, False))
                    else:
                        srcs.append(self.relu_conv_bn(conv, self.gather(x, op.rows, True), True))
            if srcs:
                nodes.append(gather_sum(srcs, plan.maps[d], backend=self.backend))
            else:
                nodes.append(h.new_zeros((plan.node_count[d], *h.shape[1:])))
        return nodes[3]

    def resblock(self, block: ResBlock, h: torch.Tensor) -> torch.Tensor:
        b = self.relu_conv_bn(block.conv_b, self.relu_conv_bn(block.conv_a, h, False), False)
        sc = block.shortcut(F.avg_pool2d(_as_nchw(h), 2, 2))
        return b + _as_rows(sc, h.shape[0])

    def head(self, h: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn_rows(h, self.net.last_bn))
        return self.net.classifier(y.mean(dim=(2, 3)))

    def chunk(self, stem: torch.Tensor, codes: np.ndarray) -> torch.Tensor:
        """Logits [n, B, K] of the candidates ``codes`` [n, 6] (distinct), from the stem row."""
        rows, count = np.zeros(len(codes), dtype=np.int64), 1
        plans: dict[bytes, CellPlan] = {}
        h = stem
        for layer in self.net.layers:
            if isinstance(layer, SupernetCell):
                key = rows.tobytes()
                if key not in plans:
                    plans[key] = plan_cell(codes, rows, count, stem.device)
                plan = plans[key]
                h = self.cell(layer, h, plan)
                rows, count = plan.node_rows[3], plan.node_count[3]
            else:
                h = self.resblock(layer, h)
        logits = self.head(h)
        return logits.index_select(0, torch.from_numpy(rows).to(logits.device))


def default_chunk(x: torch.Tensor, C: int) -> int:
    per = x.shape[0] * C * x.shape[2] * x.shape[3] * x.element_size()
    budget = CUDA_CHUNK_BYTES if x.is_cuda else CPU_CHUNK_BYTES
    return max(1, budget // max(per, 1))


def forward_candidates(
    net: Supernet,
    x: torch.Tensor,
    archs: torch.Tensor,
    mode: str,
    chunk: int | None,
    backend: str,
) -> torch.Tensor:
    """See :meth:`nasfast.nn.NB201Supernet.forward_candidates` (arguments already validated)."""
    uniq, inverse = torch.unique(archs, dim=0, return_inverse=True)
    codes = uniq.numpy()
    runner = _Runner(net, mode, backend)
    stem = _as_rows(net.stem(x, mode), 1)
    step = chunk or default_chunk(x, net.C)
    outs = [runner.chunk(stem, codes[i : i + step]) for i in range(0, len(codes), step)]
    logits = outs[0] if len(outs) == 1 else torch.cat(outs)
    return logits.index_select(0, inverse.to(logits.device))


def conv_work(net: Supernet, archs: torch.Tensor, chunk: int) -> tuple[int, int]:
    """Images pushed through cell convolutions (each weighted by its MACs per image, in units of
    a C x C 3x3 conv at the first stage's resolution) by the batched pass and by the loop, for
    one image per candidate: the work floor of both, for benchmark reports."""
    uniq = torch.unique(archs, dim=0).numpy()
    # A cell conv costs the same in every stage: (2C)^2 * (HW / 4) == C^2 * HW; 1x1 is 1/9 of 3x3.
    w3, w1 = 1.0, 1.0 / 9.0
    batched = 0.0
    for i in range(0, len(uniq), chunk):
        codes = uniq[i : i + chunk]
        rows, count = np.zeros(len(codes), dtype=np.int64), 1
        for _ in range(3 * net.N):
            plan = plan_cell(codes, rows, count, torch.device("cpu"))
            for d in (1, 2, 3):
                for op in plan.ops[d]:
                    if op.op in (CONV1, CONV3):
                        n = plan.node_count[op.src] if op.rows is None else len(op.rows)
                        batched += n * (w3 if op.op == CONV3 else w1)
            rows, count = plan.node_rows[3], plan.node_count[3]
    a = archs.numpy()
    loop = 3 * net.N * float((a == CONV3).sum() + (a == CONV1).sum() / 9.0)
    return int(round(batched)), int(round(loop))
