"""One search per seed: the protocol of every NAS benchmark comparison."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from nasfast.search.base import SearchResult, Strategy
from nasfast.search.executors.base import Executor
from nasfast.search.loop import minimize
from nasfast.search.problem import Problem


def minimize_over_seeds(
    make_problem: Callable[[], Problem],
    make_strategy: Callable[[], Strategy],
    budget: int,
    seeds: Sequence[int],
    *,
    progress: bool = False,
    executor: Executor | None = None,
) -> list[SearchResult]:
    """``minimize`` once per seed, each run on a fresh problem with a fresh strategy (and the
    same ``executor``, whose workers are reused)."""
    return [
        minimize(
            make_problem(), make_strategy(), budget, seed=seed, progress=progress, executor=executor
        )
        for seed in seeds
    ]
