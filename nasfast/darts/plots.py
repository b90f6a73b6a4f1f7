"""PNG plots of a DARTS search (matplotlib only, no graphviz): the architecture weights over
time as heat maps, and the derived cells as graphs."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nasfast.darts.genotype import Genotype  # noqa: E402
from nasfast.nn import PRIMITIVES  # noqa: E402


def _edge_labels(steps: int) -> list[str]:
    names = ["c_{k-2}", "c_{k-1}"] + [str(i) for i in range(steps)]
    return [f"{names[j]}->{i}" for i in range(steps) for j in range(2 + i)]


def plot_alpha_history(history: list[dict], out: str) -> list[str]:
    """``alphas_normal.png`` / ``alphas_reduce.png``: softmax(alpha) as a heat map, one row per
    (edge, op), one column per recorded search step."""
    paths = []
    if not history:
        return paths
    steps_axis = [int(h["step"]) for h in history]
    for kind in ("normal", "reduce"):
        P = np.stack([np.asarray(h[kind], dtype=np.float64) for h in history])  # [T, E, K]
        T, E, K = P.shape
        fig, ax = plt.subplots(figsize=(7.5, 0.105 * E * K + 1.4))
        im = ax.imshow(
            P.reshape(T, E * K).T,
            aspect="auto",
            cmap="viridis",
            vmin=0,
            vmax=max(float(P.max()), 1e-6),
            interpolation="nearest",
        )
        for e in range(1, E):
            ax.axhline(e * K - 0.5, color="white", lw=0.6)
        labels = _edge_labels(4) if E == 14 else [f"edge {e}" for e in range(E)]
        ax.set_yticks([e * K + (K - 1) / 2 for e in range(E)])
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_xlabel("search step")
        ticks = sorted({0, T // 2, T - 1})
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(steps_axis[t]) for t in ticks])
        ax.set_title(
            f"{kind} cell: softmax(alpha); rows per edge: " + ", ".join(PRIMITIVES), fontsize=7
        )
        fig.colorbar(im, ax=ax, shrink=0.5)
        path = os.path.join(out, f"alphas_{kind}.png")
        fig.savefig(path, dpi=80, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths


_COLORS = {
    "skip_connect": "tab:gray",
    "max_pool_3x3": "tab:blue",
    "avg_pool_3x3": "tab:cyan",
    "sep_conv_3x3": "tab:red",
    "sep_conv_5x5": "tab:orange",
    "dil_conv_3x3": "tab:green",
    "dil_conv_5x5": "tab:olive",
}


def plot_cell(gene: list[tuple[str, int]], concat: list[int], title: str, path: str) -> str:
    steps = len(gene) // 2
    pos = {0: (0.0, 1.0), 1: (0.0, -1.0)}
    for i in range(steps):
        pos[2 + i] = (1.0 + i, 1.6 * ((i % 2) - 0.5) * (1 if i < 2 else 0.6))
    out_node = 2 + steps
    pos[out_node] = (steps + 1.0, 0.0)
    names = {0: "c_{k-2}", 1: "c_{k-1}", out_node: "c_{k}"}
    names.update({2 + i: str(i) for i in range(steps)})
    fig, ax = plt.subplots(figsize=(2.0 + 1.8 * steps, 4.0))
    for n, (op, j) in enumerate(gene):
        dst = 2 + n // 2
        (x0, y0), (x1, y1) = pos[j], pos[dst]
        rad = 0.25 if n % 2 else -0.25
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "->",
                "color": _COLORS.get(op, "black"),
                "lw": 1.6,
                "connectionstyle": f"arc3,rad={rad}",
                "shrinkA": 14,
                "shrinkB": 14,
            },
        )
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2 + (0.18 if n % 2 else -0.18)
        ax.text(
            mx,
            my,
            op,
            fontsize=7,
            ha="center",
            va="center",
            color=_COLORS.get(op, "black"),
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    for k in concat:
        (x0, y0), (x1, y1) = pos[k], pos[out_node]
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "->",
                "color": "lightgray",
                "lw": 1,
                "shrinkA": 14,
                "shrinkB": 14,
            },
        )
    for n, (x, y) in pos.items():
        fc = "lightgreen" if n < 2 else ("khaki" if n == out_node else "lightblue")
        ax.text(
            x,
            y,
            names[n],
            ha="center",
            va="center",
            fontsize=9,
            bbox={
                "boxstyle": "circle,pad=0.35" if 2 <= n < out_node else "round,pad=0.3",
                "fc": fc,
                "ec": "black",
            },
        )
    ax.set_xlim(-0.6, steps + 1.6)
    ax.set_ylim(-1.8, 1.8)
    ax.axis("off")
    ax.set_title(title)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_genotype(genotype: Genotype, out: str) -> list[str]:
    """``cell_normal.png`` and ``cell_reduce.png``."""
    return [
        plot_cell(
            genotype.normal,
            genotype.normal_concat,
            "normal cell",
            os.path.join(out, "cell_normal.png"),
        ),
        plot_cell(
            genotype.reduce,
            genotype.reduce_concat,
            "reduction cell",
            os.path.join(out, "cell_reduce.png"),
        ),
    ]
