"""A front of three or more objectives drawn as its pairwise projections."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nasfast.search.plots import _pyplot, save_figure


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
    plt = _pyplot()
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
