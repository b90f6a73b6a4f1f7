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
from nasfast.spaces.nb201 import EDGES, OPS, SKIP


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


ADD = len(OPS)  # event kind of a node addition (0..4 are the ops)


class _Live:
    """Placeholder activations; records at each event the count alive and the event's kind."""

    def __init__(self) -> None:
        self.blobs: weakref.WeakSet[_Blob] = weakref.WeakSet()
        self.events: list[tuple[int, int]] = []

    def new(self) -> _Blob:
        b = _Blob(1)
        self.blobs.add(b)
        return b

    def during(self, kind: int) -> None:
        self.events.append((len(self.blobs), kind))


def cell_events(arch: tuple[int, ...]) -> list[tuple[int, int]]:
    """(activations alive, kind) at each op and addition of a cell, its input included
    (mirrors ``NB201Cell.forward``)."""
    live = _Live()
    nodes = [live.new()]
    y = None
    for j in (1, 2, 3):
        total = None
        for e, (d, s) in enumerate(EDGES):
            if d != j:
                continue
            live.during(arch[e])
            y = nodes[s] if arch[e] == SKIP else live.new()
            if total is None:
                total = y
            else:
                live.during(ADD)
                total = live.new()
        nodes.append(total)
    del y, total
    return live.events


def event_edges() -> np.ndarray:
    """The edge of each event of :func:`cell_events` in order, -1 for an addition."""
    out = []
    for j in (1, 2, 3):
        for n, e in enumerate(e for e, (d, _) in enumerate(EDGES) if d == j):
            out.append(e)
            if n:
                out.append(-1)
    return np.array(out, dtype=np.int64)


def all_cell_events(archs: np.ndarray) -> np.ndarray:
    """``[n, events, 2]``: :func:`cell_events` of each arch. The counts depend only on which
    edges are skips (aliases of their input), so the cell is replayed once per skip pattern."""
    patterns, inverse = np.unique(archs == SKIP, axis=0, return_inverse=True)
    counts = np.array(
        [[n for n, _ in cell_events(tuple(np.where(p, SKIP, 0).tolist()))] for p in patterns],
        dtype=np.int64,
    )[inverse.reshape(-1)]
    edges = event_edges()
    kinds = np.where(edges < 0, ADD, archs[:, np.maximum(edges, 0)])
    return np.stack([counts, kinds], axis=2)


def cell_peaks(archs: np.ndarray, p: StageProfile) -> np.ndarray:
    """Peak bytes while a cell of each arch runs at the stage of ``p``, its input included."""
    events = all_cell_events(archs)
    transient = np.array([*p.op_transient, p.add_transient], dtype=np.int64)
    return (events[:, :, 0] * p.act + transient[events[:, :, 1]]).max(axis=1)


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
    unique, inverse = np.unique(archs, axis=0, return_inverse=True)
    state = sum(N * np.array(p.op_state)[unique].sum(axis=1) for p in profiles)
    cells = [
        cell_peaks(unique, p) + (stem_out if (s > 0 or N > 1) else 0)
        for s, p in enumerate(profiles)
    ]
    peak = fixed_state + state + np.maximum(skeleton_transient, np.max(cells, axis=0))
    return peak[inverse.reshape(-1)].astype(np.int64)
