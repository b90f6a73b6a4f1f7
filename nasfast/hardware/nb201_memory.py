"""Inference peak memory of all 15,625 NAS-Bench-201 networks in seconds, equal to
:func:`nasfast.hardware.memory.inference_memory` on each network.

Every cell of a network runs the same 6 ops at one of three shapes, so the graph tracker runs
only on the pieces: each op on its own at each stage (its transient bytes above what was live
when it started, its weights) and the skeleton with the cells replaced by copies. A cell is then
replayed with placeholder objects whose Python lifetimes are those of the cell's tensors in
:class:`nasfast.nn.nb201_network.NB201Cell` (``y`` and ``total`` stay bound until reassigned).
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from nasfast.hardware.memory import inference_memory
from nasfast.hardware.workspace import Workspaces
from nasfast.nn.nb201_network import NB201Cell, NB201Network, edge_op
from nasfast.nn.nb201_supernet import EDGES, OPS, SKIP


class _Clone(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clone()


class _Add(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


@dataclass
class StageProfile:
    act: int  # bytes of one activation at this stage
    op_transient: list[int]  # per op: bytes above the live set at its start, output included
    op_state: list[int]  # per op: bytes of its parameters and buffers
    add_transient: int


class _Blob:
    __slots__ = ("n", "__weakref__")

    def __init__(self, n: int) -> None:
        self.n = n


class _Live:
    def __init__(self) -> None:
        self.blobs: weakref.WeakSet[_Blob] = weakref.WeakSet()
        self.peak = 0

    def new(self, n: int) -> _Blob:
        b = _Blob(n)
        self.blobs.add(b)
        return b

    def during(self, transient: int) -> None:
        self.peak = max(self.peak, sum(b.n for b in self.blobs) + transient)


def cell_peak(arch: tuple[int, ...], p: StageProfile) -> int:
    """Peak bytes while a cell runs, its input included (mirrors ``NB201Cell.forward``)."""
    live = _Live()
    nodes = [live.new(p.act)]
    y = None
    for j in (1, 2, 3):
        total = None
        for e, (d, s) in enumerate(EDGES):
            if d != j:
                continue
            live.during(p.op_transient[arch[e]])
            y = nodes[s] if arch[e] == SKIP else live.new(p.act)
            if total is None:
                total = y
            else:
                live.during(p.add_transient)
                total = live.new(p.act)
        nodes.append(total)
    del y, total
    return live.peak


def stage_profiles(
    cfg: dict[str, Any], workspaces: Workspaces | None
) -> tuple[list[StageProfile], list[tuple[int, int, int]]]:
    B, H, W = cfg["batch"], cfg["image"][1], cfg["image"][2]
    out, shapes = [], []
    for s in range(3):
        shape = (B, cfg["C"] * 2**s, H // 2**s, W // 2**s)
        shapes.append(shape[1:])
        act = int(np.prod(shape)) * 4
        trans, state = [], []
        for code in range(len(OPS)):
            m = inference_memory(edge_op(code, shape[1]), shape, workspaces)
            trans.append(m.peak - m.params - m.buffers - m.inputs)
            state.append(m.params + m.buffers)
        a = inference_memory(_Add(), (torch.empty(shape, device="meta"),) * 2, workspaces)
        out.append(StageProfile(act, trans, state, a.peak - a.inputs))
    return out, shapes


def skeleton(cfg: dict[str, Any]) -> NB201Network:
    net = NB201Network((0,) * 6, cfg["C"], cfg["N"], cfg["num_classes"], cfg["image"][0])
    for i, layer in enumerate(net.layers):
        if isinstance(layer, NB201Cell):
            net.layers[i] = _Clone()
    return net


def all_archs() -> np.ndarray:
    """Every op-code tuple, edge 0 most significant (row r has mixed-radix code r)."""
    return np.array(list(itertools.product(range(len(OPS)), repeat=len(EDGES))), dtype=np.int64)


def nb201_inference_memory(
    cfg: dict[str, Any], archs: np.ndarray | None = None, workspaces: Workspaces | None = None
) -> np.ndarray:
    """Peak inference bytes of the NB201 network of each arch row (default: all 15,625)."""
    archs = all_archs() if archs is None else np.asarray(archs, dtype=np.int64).reshape(-1, 6)
    profiles, _ = stage_profiles(cfg, workspaces)
    skel = inference_memory(skeleton(cfg), (cfg["batch"], *cfg["image"]), workspaces)
    fixed_state = skel.params + skel.buffers + skel.inputs
    skeleton_transient = skel.peak - fixed_state
    stem_out = profiles[0].act
    N = cfg["N"]
    peaks = {}
    out = np.empty(len(archs), dtype=np.int64)
    for r, arch in enumerate(map(tuple, archs.tolist())):
        if arch not in peaks:
            state = sum(N * p.op_state[o] for p in profiles for o in arch)
            cells = [
                cell_peak(arch, p) + (stem_out if (s > 0 or N > 1) else 0)
                for s, p in enumerate(profiles)
            ]
            peaks[arch] = fixed_state + state + max(skeleton_transient, *cells)
        out[r] = peaks[arch]
    return out
