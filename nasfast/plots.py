"""PNG plots of search results (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """Lay out ``fig``, write it to ``path`` (creating folders) as PNG, close it."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def plot_convergence(
    curves: Mapping[str, np.ndarray],
    path: str | Path,
    *,
    ylabel: str = "200-epoch accuracy of the best found (%)",
    title: str = "",
    optimum: float | None = None,
) -> Path:
    """Mean incumbent value vs evaluations, one line per strategy, a band of +-1 std over seeds
    (and the min..max range lighter). ``curves[label]`` has shape (seeds, steps)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, C in curves.items():
        C = np.asarray(C, dtype=float)
        x = np.arange(1, C.shape[1] + 1)
        mean, std = np.nanmean(C, axis=0), np.nanstd(C, axis=0)
        (line,) = ax.plot(x, mean, label=f"{label} ({C.shape[0]} seeds)")
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.25, lw=0)
        ax.fill_between(
            x, np.nanmin(C, 0), np.nanmax(C, 0), color=line.get_color(), alpha=0.08, lw=0
        )
    if optimum is not None:
        ax.axhline(optimum, color="k", ls=":", lw=1, label=f"table optimum {optimum:.2f}")
    ax.set_xlabel("evaluations")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    lo = min(np.nanpercentile(np.asarray(C)[:, -1], 0) for C in curves.values())
    ax.set_ylim(bottom=max(lo - 3.0, np.nanmin([np.nanmin(C) for C in curves.values()])))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_front(
    found: Sequence[Sequence[float]],
    exact: Sequence[Sequence[float]],
    path: str | Path,
    *,
    xlabel: str,
    ylabel: str,
    evaluated: Sequence[Sequence[float]] | None = None,
    title: str = "",
    ylim: tuple[float, float] | None = None,
) -> Path:
    """The found front (points and steps) over the exact front of the table (2 objectives)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if evaluated is not None and len(evaluated):
        E = np.asarray(evaluated, dtype=float)
        ax.scatter(E[:, 0], E[:, 1], s=4, c="0.8", label="evaluated")
    X = np.asarray(exact, dtype=float)
    ax.plot(X[:, 0], X[:, 1], "k-", drawstyle="steps-post", lw=1, alpha=0.6)
    ax.scatter(X[:, 0], X[:, 1], s=28, facecolors="none", edgecolors="k", label="exact front")
    F = np.asarray(found, dtype=float)
    if len(F):
        ax.scatter(F[:, 0], F[:, 1], s=12, c="tab:red", label="found front")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_front_pairs(
    found: np.ndarray,
    exact: np.ndarray,
    names: Sequence[str],
    path: str | Path,
    *,
    evaluated: np.ndarray | None = None,
    title: str = "",
) -> Path:
    """One panel per pair of objectives (rows of ``found``/``exact``/``evaluated`` are points in
    the objectives' own units): evaluated cells grey, the exact Pareto set as black rings coloured
    by the remaining objective, the found set red."""
    plt = pyplot()
    k = len(names)
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.6 * len(pairs), 4.0), squeeze=False)
    for ax, (i, j) in zip(axes[0], pairs):
        if evaluated is not None and len(evaluated):
            ax.scatter(evaluated[:, j], evaluated[:, i], s=3, c="0.85", label="evaluated")
        rest = [r for r in range(k) if r not in (i, j)]
        colour = exact[:, rest[0]] if rest else "none"
        sc = ax.scatter(
            exact[:, j],
            exact[:, i],
            s=30,
            c=colour,
            cmap="viridis",
            edgecolors="k",
            label="exact Pareto set",
        )
        if rest:
            fig.colorbar(sc, ax=ax, label=names[rest[0]])
        if len(found):
            ax.scatter(found[:, j], found[:, i], s=10, c="tab:red", label="found")
        ax.set_xlabel(names[j])
        ax.set_ylabel(names[i])
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
