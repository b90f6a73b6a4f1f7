"""Per-op costs of the search network's edges for cost-aware DARTS.

``params`` (millions) and ``flops`` (millions of multiply-adds, per image) are counted on the
network's own edge modules at their own input sizes. ``latency`` uses a per-op table (ms at a
reference size, scaled per edge by C*H*W / (C*H*W of the reference)); the default table ships in
``nasfast/data/darts_latency_cpu.json``. A user table (``--cost-table PATH``) replaces the
default for any metric: JSON ``{"costs": {op: value}, "reference": {"C": c, "H": h, "W": w}}``
(``reference`` optional: without it every edge costs ``value`` as given; missing ops cost 0).
An optional ``"edges": {"C,H,W,stride": {op: value}}`` gives exact costs for those edge shapes.
A latency table of the darts space written by ``nasfast profile --space darts`` is read through
its ``darts_costs`` section, which has this format (ms on the profiled device).

The penalty added to the loss is ``LAMBDA * E[cost]``: the expected cost of the sampled
architecture when each edge picks op k with probability ``softmax(alpha_edge)[k]``, summed over
all edges of all cells.
"""

from __future__ import annotations

import json
import os

import torch
from torch import nn

from nasfast.nn import PRIMITIVES

METRICS = ("params", "flops", "latency")
DEFAULT_LATENCY_TABLE = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "data", "darts_latency_cpu.json"
)


def load_cost_table(
    path: str,
) -> tuple[dict[str, float], dict[str, int] | None, dict[str, dict[str, float]]]:
    try:
        with open(path) as f:
            d = json.load(f)
    except OSError as exc:
        raise ValueError(f"cost_table: cannot read {path} ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"cost_table: {path} is not JSON ({exc.msg})") from None
    if isinstance(d, dict) and d.get("format") == "nasfast-latency-table":
        if not isinstance(d.get("darts_costs"), dict):
            raise ValueError(
                f"cost_table: {path} has no darts_costs (nasfast profile --space darts)"
            )
        d = d["darts_costs"]
    costs = d.get("costs") if isinstance(d, dict) else None
    if not isinstance(costs, dict):
        raise ValueError(f"cost_table: {path} needs a 'costs' object of op -> number")
    for op, v in costs.items():
        if op not in PRIMITIVES:
            raise ValueError(f"cost_table: unknown op {op!r} in {path}")
        if not isinstance(v, (int, float)) or v < 0:
            raise ValueError(f"cost_table: cost of {op} must be a number >= 0, got {v!r}")
    ref = d.get("reference")
    if ref is not None and not all(isinstance(ref.get(k), int) and ref[k] > 0 for k in "CHW"):
        raise ValueError(f"cost_table: 'reference' in {path} needs positive integers C, H, W")
    edges = d.get("edges") or {}
    if not isinstance(edges, dict) or not all(isinstance(v, dict) for v in edges.values()):
        raise ValueError(f"cost_table: 'edges' in {path} must map 'C,H,W,stride' to op costs")
    return {op: float(costs.get(op, 0.0)) for op in PRIMITIVES}, ref, edges


def _op_flops(op: nn.Module, C: int, H: int, W: int) -> float:
    total = [0.0]

    def conv_hook(m: nn.Conv2d, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        total[0] += out.numel() * (m.in_channels // m.groups) * k

    def pool_hook(m: nn.Module, inp, out):
        total[0] += out.numel() * 9

    hooks = []
    for m in op.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            hooks.append(m.register_forward_hook(pool_hook))
    was = op.training
    op.eval()
    try:
        with torch.no_grad():
            p = next(op.parameters(), None)
            dtype = p.dtype if p is not None else torch.float32
            device = p.device if p is not None else torch.device("cpu")
            op(torch.zeros(1, C, H, W, dtype=dtype, device=device))
    finally:
        op.train(was)
        for h in hooks:
            h.remove()
    return total[0]


def edge_costs(net: nn.Module, metric: str, table_path: str | None = None) -> torch.Tensor:
    """``[2, E, 8]`` (normal, reduce): the cost of each op summed over the cells of each type."""
    if metric not in METRICS:
        raise ValueError(f"complexity: expected one of {METRICS}, got {metric!r}")
    if metric == "latency" and table_path is None:
        table_path = DEFAULT_LATENCY_TABLE
    table = load_cost_table(table_path) if table_path is not None else None
    E, K = net.alphas_normal.shape
    out = torch.zeros(2, E, K, dtype=torch.float64)
    for c, sizes in enumerate(net.edge_input_sizes()):
        t = int(net.cells[c].reduction)
        for e, (edge, (C, H, W, stride)) in enumerate(zip(net.darts_edges(c), sizes, strict=True)):
            for k, op in enumerate(edge.ops):
                if table is not None:
                    costs, ref, edges = table
                    exact = edges.get(f"{C},{H},{W},{stride}", {})
                    scale = 1.0 if ref is None else (C * H * W) / (ref["C"] * ref["H"] * ref["W"])
                    out[t, e, k] += exact.get(PRIMITIVES[k], costs[PRIMITIVES[k]] * scale)
                elif metric == "params":
                    out[t, e, k] += sum(p.numel() for p in op.parameters()) / 1e6
                else:
                    out[t, e, k] += _op_flops(op, C, H, W) / 1e6
    return out.to(net.alphas_normal.dtype)


def expected_cost(net: nn.Module, costs: torch.Tensor) -> torch.Tensor:
    """E[cost] under the architecture distribution (differentiable in the alphas)."""
    costs = costs.to(net.alphas_normal.device)
    return (net.probabilities(False) * costs[0]).sum() + (net.probabilities(True) * costs[1]).sum()
