"""The DARTS search network: stem, ``layers`` search cells (reductions at 1/3 and 2/3 of the
depth), 4 intermediate nodes and 14 ``DartsEdge`` edges per cell, the last 4 nodes concatenated,
``alphas_normal`` / ``alphas_reduce`` of shape [14, 8], global pooling and a linear classifier.

Variants, all switched by constructor arguments:

- ``sampler="gumbel"`` (GDAS): each forward draws hard Gumbel-softmax weights per edge
  (``nasfast.ops.mixed_op_weights(mode="gumbel", hard=True)``) at temperature ``self.tau`` and
  runs only the sampled op (``DartsEdge.forward(..., single_path=True)``).
- ``partial_channels=K`` (PC-DARTS): 1/K of an edge's channels go through the mixed op, the rest
  bypass it (max-pooled at stride 2), then a channel shuffle with K groups; each node sums its
  incoming edges weighted by the edge-normalization betas (softmax over the node's edges).
- ``op_mask`` (P-DARTS pruning): a [2, 14, 8] bool buffer; pruned ops get exactly zero weight
  (their alphas are masked to ``-inf`` before the softmax). The edge still holds all 8 primitives
  so the state_dict layout is the same as the full set; the zero-weighted ops are still
  evaluated by the reference backend, which costs time but not correctness.
- ``skip_drop`` (P-DARTS): dropout on the skip_connect path of the stride-1 edges in training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nasfast.darts.layers import Stem, channel_shuffle, preprocess, reduction_layers
from nasfast.nn import PRIMITIVES, DartsEdge
from nasfast.ops import mixed_op_weights

NUM_OPS = len(PRIMITIVES)
SKIP = PRIMITIVES.index("skip_connect")
NONE = PRIMITIVES.index("none")
SAMPLERS = ("softmax", "gumbel")


def num_edges(steps: int) -> int:
    return sum(2 + i for i in range(steps))


def run_edge(
    edge: DartsEdge, x: torch.Tensor, w: torch.Tensor, single_path: bool, skip_drop: float
) -> torch.Tensor:
    """One edge; with ``skip_drop`` the identity path is computed outside the edge, with dropout."""
    if single_path:
        return edge(x, w, single_path=True)
    if skip_drop > 0.0 and edge.stride == 1:
        keep = torch.ones_like(w)
        keep[SKIP] = 0.0
        return edge(x, w * keep) + w[SKIP] * F.dropout(x, skip_drop, training=True)
    return edge(x, w)


class PartialChannelEdge(nn.Module):
    """PC-DARTS edge: the first C/K channels through a ``DartsEdge``, the rest bypass it."""

    def __init__(self, C: int, stride: int, k: int, backend: str):
        super().__init__()
        if C % k:
            raise ValueError(f"partial_channels: {k} must divide the cell's channels {C}")
        if stride == 2 and (C // k) % 2:
            raise ValueError(
                f"partial_channels: C/K = {C}/{k} must be even for the reduction edges"
            )
        self.k, self.stride = k, stride
        self.edge = DartsEdge(C // k, stride, backend=backend)
        self.pool = nn.MaxPool2d(2, 2) if stride == 2 else nn.Identity()

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, single_path: bool, skip_drop: float
    ) -> torch.Tensor:
        c = x.shape[1] // self.k
        y = run_edge(self.edge, x[:, :c], w, single_path, skip_drop)
        return channel_shuffle(torch.cat([y, self.pool(x[:, c:])], dim=1), self.k)


class SearchCell(nn.Module):
    def __init__(
        self,
        steps: int,
        multiplier: int,
        C_pp: int,
        C_p: int,
        C: int,
        reduction: bool,
        reduction_prev: bool,
        backend: str,
        partial_channels: int,
    ):
        super().__init__()
        self.reduction, self.steps, self.multiplier = reduction, steps, multiplier
        self.preprocess0 = preprocess(C_pp, C, reduction_prev, affine=False)
        self.preprocess1 = preprocess(C_p, C, False, affine=False)
        edges: list[nn.Module] = []
        for i in range(steps):
            for j in range(2 + i):
                stride = 2 if reduction and j < 2 else 1
                if partial_channels > 1:
                    edges.append(PartialChannelEdge(C, stride, partial_channels, backend))
                else:
                    edges.append(DartsEdge(C, stride, backend=backend))
        self.edges = nn.ModuleList(edges)

    def forward(
        self,
        s0: torch.Tensor,
        s1: torch.Tensor,
        weights: torch.Tensor,
        edge_weights: torch.Tensor | None,
        single_path: bool,
        skip_drop: float,
    ) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        offset = 0
        for _i in range(self.steps):
            s = 0
            for j, h in enumerate(states):
                e = offset + j
                edge = self.edges[e]
                if isinstance(edge, PartialChannelEdge):
                    y = edge(h, weights[e], single_path, skip_drop)
                else:
                    y = run_edge(edge, h, weights[e], single_path, skip_drop)
                s = s + (y if edge_weights is None else edge_weights[e] * y)
            offset += len(states)
            states.append(s)
        return torch.cat(states[-self.multiplier :], dim=1)


class SearchNetwork(nn.Module):
    """The DARTS supernet (see the module docstring)."""

    def __init__(
        self,
        C: int,
        num_classes: int,
        layers: int,
        *,
        in_channels: int = 3,
        image_size: tuple[int, int] = (32, 32),
        steps: int = 4,
        multiplier: int = 4,
        stem_multiplier: int = 3,
        backend: str = "fused",
        sampler: str = "softmax",
        partial_channels: int = 1,
        op_mask: torch.Tensor | None = None,
        channels_last: bool = False,
    ):
        """``channels_last=True`` keeps the weights and every activation channels-last (inputs
        are converted in ``forward``): the fused edge's CPU kernels compute in that layout, so
        its edges then change no layout."""
        super().__init__()
        if not isinstance(C, int) or C < 1:
            raise ValueError(f"C: expected a positive count, got {C!r}")
        if not isinstance(layers, int) or layers < 1:
            raise ValueError(f"layers: expected a positive count, got {layers!r}")
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler: expected one of {SAMPLERS}, got {sampler!r}")
        if not isinstance(partial_channels, int) or partial_channels < 1:
            raise ValueError(f"partial_channels: expected K >= 1, got {partial_channels!r}")
        self.C, self.num_classes, self.layers, self.steps = C, num_classes, layers, steps
        self.multiplier, self.sampler, self.partial_channels = multiplier, sampler, partial_channels
        self.backend = backend
        self.tau = 1.0
        self.generator: torch.Generator | None = None
        self.skip_drop = 0.0
        E = num_edges(steps)
        self.stem = Stem(in_channels, stem_multiplier * C, image_size)
        C_pp, C_p, C_cur = stem_multiplier * C, stem_multiplier * C, C
        reductions = reduction_layers(layers)
        self.reductions = reductions
        cells: list[nn.Module] = []
        reduction_prev = False
        for i in range(layers):
            reduction = i in reductions
            if reduction:
                C_cur *= 2
            cells.append(
                SearchCell(
                    steps,
                    multiplier,
                    C_pp,
                    C_p,
                    C_cur,
                    reduction,
                    reduction_prev,
                    backend,
                    partial_channels,
                )
            )
            reduction_prev = reduction
            C_pp, C_p = C_p, multiplier * C_cur
        self.cells = nn.ModuleList(cells)
        self.classifier = nn.Linear(C_p, num_classes)
        self.alphas_normal = nn.Parameter(1e-3 * torch.randn(E, NUM_OPS))
        self.alphas_reduce = nn.Parameter(1e-3 * torch.randn(E, NUM_OPS))
        if partial_channels > 1:
            self.betas_normal = nn.Parameter(1e-3 * torch.randn(E))
            self.betas_reduce = nn.Parameter(1e-3 * torch.randn(E))
        else:
            self.betas_normal = self.betas_reduce = None
        if op_mask is None:
            op_mask = torch.ones(2, E, NUM_OPS, dtype=torch.bool)
        if op_mask.shape != (2, E, NUM_OPS) or op_mask.dtype != torch.bool:
            raise ValueError(f"op_mask: expected a bool tensor [2, {E}, {NUM_OPS}]")
        if not bool(op_mask[..., [k for k in range(NUM_OPS) if k != NONE]].any(-1).all()):
            raise ValueError("op_mask: every edge needs at least one op other than none")
        self.register_buffer("op_mask", op_mask.clone())
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)

    # -- parameters ------------------------------------------------------------------------
    def arch_parameters(self) -> list[nn.Parameter]:
        ps = [self.alphas_normal, self.alphas_reduce]
        if self.betas_normal is not None:
            ps += [self.betas_normal, self.betas_reduce]
        return ps

    def weight_parameters(self) -> list[nn.Parameter]:
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    # -- architecture distribution ---------------------------------------------------------
    def masked_alphas(self, reduce: bool) -> torch.Tensor:
        a = self.alphas_reduce if reduce else self.alphas_normal
        mask = self.op_mask[int(reduce)]
        if bool(mask.all()):
            return a
        return a.masked_fill(~mask, float("-inf"))

    def probabilities(self, reduce: bool) -> torch.Tensor:
        """softmax over each edge's (unpruned) ops: the architecture distribution."""
        return torch.softmax(self.masked_alphas(reduce), dim=-1)

    def edge_normalization(self, reduce: bool) -> torch.Tensor | None:
        """PC-DARTS betas as per-edge weights: softmax over the edges entering each node."""
        b = self.betas_reduce if reduce else self.betas_normal
        if b is None:
            return None
        parts, offset = [], 0
        for i in range(self.steps):
            parts.append(torch.softmax(b[offset : offset + 2 + i], dim=0))
            offset += 2 + i
        return torch.cat(parts)

    def sample_weights(self, reduce: bool) -> torch.Tensor:
        if self.sampler == "softmax":
            return self.probabilities(reduce)
        a = self.masked_alphas(reduce)
        rows = [
            mixed_op_weights(a[e], mode="gumbel", hard=True, tau=self.tau, generator=self.generator)
            for e in range(a.shape[0])
        ]
        return torch.stack(rows)

    # -- forward ---------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        w = {False: self.sample_weights(False), True: self.sample_weights(True)}
        b = {False: self.edge_normalization(False), True: self.edge_normalization(True)}
        single = self.sampler == "gumbel"
        skip_drop = self.skip_drop if self.training else 0.0
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            r = cell.reduction
            s0, s1 = s1, cell(s0, s1, w[r], b[r], single, skip_drop)
        out = F.adaptive_avg_pool2d(s1, 1).flatten(1)
        return self.classifier(out)

    def edge_input_sizes(self) -> list[list[tuple[int, int, int, int]]]:
        """For each cell, each edge: (C, H, W, stride) of the DartsEdge's input."""
        H, W = self.stem.out_size
        out = []
        for cell in self.cells:
            sizes, offset = [], 0
            for i in range(self.steps):
                for j in range(2 + i):
                    e = cell.edges[offset + j]
                    edge = e.edge if isinstance(e, PartialChannelEdge) else e
                    if cell.reduction and j >= 2:
                        sizes.append((edge.C, H // 2, W // 2, edge.stride))
                    else:
                        sizes.append((edge.C, H, W, edge.stride))
                offset += 2 + i
            out.append(sizes)
            if cell.reduction:
                H, W = H // 2, W // 2
        return out

    def darts_edges(self, cell: int) -> list[DartsEdge]:
        return [e.edge if isinstance(e, PartialChannelEdge) else e for e in self.cells[cell].edges]
