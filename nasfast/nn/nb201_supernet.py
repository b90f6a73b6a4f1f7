"""The NAS-Bench-201 weight-sharing supernet (Dong & Yang, ICLR 2020).

Skeleton: 3x3 stem conv + BN; N cells at C; residual block C->2C (stride 2); N cells at 2C;
residual block 2C->4C; N cells at 4C; BN, ReLU, global average pool, linear classifier. Every
cell has 4 nodes and 6 edges in the official order (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2);
node j sums its incoming edges and the cell outputs node 3. Every edge holds the five ops
(none=0, skip_connect=1, nor_conv_1x1=2, nor_conv_3x3=3, avg_pool_3x3=4), shared by all
candidates; all cells of a candidate use the same 6 op codes.

``forward(x, arch)`` runs one candidate (the per-candidate path a weight-sharing method runs in a
Python loop); ``forward_candidates(x, archs)`` scores a whole population in one batched pass
(``nasfast.nn.nb201_batched``) and equals the loop.

BatchNorm: ``bn="running"`` uses the supernet's running statistics (eval), ``bn="batch"``
recalibrates: each candidate is normalized with the statistics of its own activations on the
batch it is scored on, ``bn="train"`` is ``"batch"`` that also updates the running statistics.
The default is ``"train"`` in training mode and ``"running"`` in eval mode.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nasfast.nn.nb201_batched import forward_candidates
from nasfast.nn.nb201_layers import BN_MODES, ResBlock, SupernetCell, batch_norm
from nasfast.ops import mixed_op
from nasfast.spaces.nb201 import EDGES, N_EDGES, OPS


def _require_int(v: object, name: str, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")
    return v


def check_archs(archs: object, name: str, *, single: bool = False) -> torch.Tensor:
    """``archs`` as an int64 CPU tensor of shape [P, 6] (or [6] when ``single``), codes 0..4."""
    try:
        t = torch.as_tensor(archs)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{name}: expected op codes as a tensor or nested sequence ({exc})"
        ) from None
    want = f"[{N_EDGES}]" if single else f"[P, {N_EDGES}] with P >= 1"
    ok_shape = t.shape == (N_EDGES,) if single else (t.dim() == 2 and t.shape[1] == N_EDGES)
    if not ok_shape or (not single and t.shape[0] == 0):
        raise ValueError(f"{name}: expected shape {want}, got {tuple(t.shape)}")
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        if not (t.is_floating_point() and torch.equal(t, t.round())):
            raise ValueError(f"{name}: expected integer op codes, got dtype {t.dtype}")
    t = t.to(device="cpu", dtype=torch.int64)
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= len(OPS)):
        raise ValueError(
            f"{name}: expected op codes in 0..{len(OPS) - 1} {OPS}, got min {int(t.min())} "
            f"max {int(t.max())}"
        )
    return t


class NB201Supernet(nn.Module):
    def __init__(self, C: int = 16, N: int = 5, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        self.C = _require_int(C, "C", 1)
        self.N = _require_int(N, "N", 1)
        self.num_classes = _require_int(num_classes, "num_classes", 1)
        self.in_channels = _require_int(in_channels, "in_channels", 1)
        self.stem_conv = nn.Conv2d(in_channels, C, 3, 1, 1, bias=False)
        self.stem_bn = nn.BatchNorm2d(C)
        layers: list[nn.Module] = []
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage:
                layers.append(ResBlock(c // 2, c))
            layers.extend(SupernetCell(c) for _ in range(N))
        self.layers = nn.ModuleList(layers)
        self.last_bn = nn.BatchNorm2d(4 * C)
        self.classifier = nn.Linear(4 * C, num_classes)

    def extra_repr(self) -> str:
        return (
            f"C={self.C}, N={self.N}, num_classes={self.num_classes}, "
            f"in_channels={self.in_channels}"
        )

    def bn_mode(self, bn: str | None) -> str:
        if bn is None:
            return "train" if self.training else "running"
        if bn not in BN_MODES:
            raise ValueError(f"bn: expected one of {BN_MODES} or None, got {bn!r}")
        return bn

    def check_input(self, x: object) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x: expected a 4-D [B, C, H, W] tensor, got {shape}")
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"x: expected {self.in_channels} channels (in_channels), got {x.shape[1]}"
            )
        if x.shape[0] == 0:
            raise ValueError("x: expected at least one image, got an empty batch")
        if not x.is_floating_point():
            raise ValueError(f"x: expected a floating-point tensor, got dtype {x.dtype}")
        return x

    def stem(self, x: torch.Tensor, bn: str) -> torch.Tensor:
        return batch_norm(self.stem_conv(x), self.stem_bn, bn)

    def head(self, x: torch.Tensor, bn: str) -> torch.Tensor:
        y = F.relu(batch_norm(x, self.last_bn, bn))
        return self.classifier(y.mean(dim=(2, 3)))

    def forward(
        self, x: torch.Tensor, arch: Sequence[int] | torch.Tensor, *, bn: str | None = None
    ):
        """Logits ``[B, num_classes]`` of one candidate (6 op codes)."""
        x = self.check_input(x)
        codes = check_archs(arch, "arch", single=True).tolist()
        mode = self.bn_mode(bn)
        h = self.stem(x, mode)
        for layer in self.layers:
            h = layer(h, codes, mode) if isinstance(layer, SupernetCell) else layer(h, mode)
        return self.head(h, mode)

    def forward_mixed(
        self, x: torch.Tensor, alpha: torch.Tensor, *, bn: str | None = None
    ) -> torch.Tensor:
        """DARTS relaxation: every edge outputs ``sum_o softmax(alpha[e])_o * op_o(x)``.

        ``alpha``: ``[6, 5]`` architecture logits (edge-major, op codes as columns); the mixing
        runs through the fused ``nasfast.ops.mixed_op``.
        """
        x = self.check_input(x)
        if not isinstance(alpha, torch.Tensor) or alpha.shape != (N_EDGES, len(OPS)):
            shape = tuple(alpha.shape) if isinstance(alpha, torch.Tensor) else type(alpha).__name__
            raise ValueError(f"alpha: expected shape [{N_EDGES}, {len(OPS)}], got {shape}")
        mode = self.bn_mode(bn)
        h = self.stem(x, mode)
        a = alpha.to(h.dtype)
        for layer in self.layers:
            if not isinstance(layer, SupernetCell):
                h = layer(h, mode)
                continue
            nodes = [h]
            for j in (1, 2, 3):
                total = None
                for e, (d, s) in enumerate(EDGES):
                    if d != j:
                        continue
                    outs = [layer.edge(e, o, nodes[s], mode) for o in range(len(OPS))]
                    y = mixed_op(outs, a[e])
                    total = y if total is None else total + y
                nodes.append(total)
            h = nodes[3]
        return self.head(h, mode)

    def forward_loop(self, x: torch.Tensor, archs, *, bn: str | None = None) -> torch.Tensor:
        """``[P, B, num_classes]``: one ``forward`` per candidate (the baseline of the batch)."""
        a = check_archs(archs, "archs")
        return torch.stack([self.forward(x, row, bn=bn) for row in a])

    def forward_candidates(
        self,
        x: torch.Tensor,
        archs,
        *,
        bn: str | None = None,
        chunk: int | None = None,
        backend: str = "fused",
    ) -> torch.Tensor:
        """Logits ``[P, B, num_classes]`` of P candidates (``archs``: [P, 6] op codes) on ``x``.

        Equal to ``P`` separate ``forward`` calls. Candidates are deduplicated, sorted, and run
        ``chunk`` at a time (default: sized to the cache); within a chunk every node value is
        computed once per distinct content and every edge op once over the stacked rows that
        need it (see ``nasfast.nn.nb201_batched``).
        """
        x = self.check_input(x)
        a = check_archs(archs, "archs")
        if chunk is not None:
            _require_int(chunk, "chunk", 1)
        if backend not in ("fused", "reference"):
            raise ValueError(f"backend: expected 'fused' or 'reference', got {backend!r}")
        return forward_candidates(self, x, a, self.bn_mode(bn), chunk, backend)
