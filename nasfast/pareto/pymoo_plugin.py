"""pymoo plug-in: NSGA-II survival and non-dominated sorting backed by nasfast's kernels.

``NSGA2(pop_size=..., survival=NasfastRankAndCrowding())`` runs pymoo's NSGA-II with nasfast's
sort and crowding distance; with the same seed it ends in the same population as pymoo's default
``RankAndCrowding`` (same fronts, same crowding values, same random tie-breaking).
"""

from __future__ import annotations

import numpy as np
import torch
from pymoo.core.survival import Survival
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
from pymoo.util.randomized_argsort import randomized_argsort

import nasfast.pareto._ops  # noqa: F401  (registers the ops' fakes)


def _ranks(F: np.ndarray) -> np.ndarray:
    F = np.ascontiguousarray(F, dtype=np.float64)
    if len(F) == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.isfinite(F).all():
        raise ValueError("F: expected finite values, found NaN or inf")
    return torch.ops.nasfast.pareto_rank(torch.from_numpy(F)).numpy()


def _fronts(rank: np.ndarray, n_stop_if_ranked: int | None = None) -> list[np.ndarray]:
    """Row indices of each front (ascending, as pymoo lists them), stopping once enough rows."""
    if len(rank) == 0:
        return []
    order = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[order], np.arange(int(rank.max()) + 2))
    fronts, n = [], 0
    for r in range(len(bounds) - 1):
        front = order[bounds[r] : bounds[r + 1]]
        fronts.append(front)
        n += len(front)
        if n_stop_if_ranked is not None and n >= n_stop_if_ranked:
            break
    return fronts


class NasfastNonDominatedSorting(NonDominatedSorting):
    """pymoo's ``NonDominatedSorting`` interface (``do(F, ...)`` -> fronts) on nasfast's kernel."""

    def __init__(self) -> None:
        super().__init__()

    def do(
        self,
        F,
        return_rank: bool = False,
        only_non_dominated_front: bool = False,
        n_stop_if_ranked: int | None = None,
        n_fronts: int | None = None,
        **kwargs,
    ):
        rank = _ranks(np.asarray(F, dtype=np.float64))
        fronts = _fronts(rank, n_stop_if_ranked)
        if n_fronts is not None:
            fronts = fronts[:n_fronts]
        if only_non_dominated_front:
            return fronts[0] if fronts else np.array([], dtype=int)
        if return_rank:
            return fronts, rank
        return fronts


class NasfastRankAndCrowding(Survival):
    """NSGA-II survival (rank, then crowding distance in the splitting front) on nasfast.

    Drop-in for pymoo's ``RankAndCrowding()`` with crowding ``"cd"``: ``NSGA2(survival=...)``.
    """

    def __init__(self) -> None:
        super().__init__(filter_infeasible=True)

    def _do(self, problem, pop, *args, random_state=None, n_survive=None, **kwargs):
        F = np.ascontiguousarray(pop.get("F"), dtype=np.float64)
        if n_survive is None:
            n_survive = len(F)
        rank = _ranks(F)
        fronts = _fronts(rank, n_survive)
        # Crowding of every front kept or split, in one call (fronts beyond are not needed).
        kept = np.concatenate(fronts) if fronts else np.zeros(0, dtype=np.int64)
        sub_rank = np.ascontiguousarray(rank[kept])
        crowd = np.empty(len(F))
        if len(kept):
            crowd[kept] = torch.ops.nasfast.pareto_crowding(
                torch.from_numpy(np.ascontiguousarray(F[kept])), torch.from_numpy(sub_rank)
            ).numpy()
        survivors: list[int] = []
        for k, front in enumerate(fronts):
            I = np.arange(len(front))  # noqa: E741
            if len(survivors) + len(front) > n_survive:
                n_remove = len(survivors) + len(front) - n_survive
                I = randomized_argsort(  # noqa: E741
                    crowd[front], order="descending", method="numpy", random_state=random_state
                )
                I = I[:-n_remove]  # noqa: E741
            for i in front:
                pop[i].set("rank", k)
                pop[i].set("crowding", crowd[i])
            survivors.extend(front[I])
        return pop[survivors]
