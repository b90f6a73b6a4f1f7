"""The run loop: ask, evaluate what is new, tell, until the budget of evaluations is spent."""

from __future__ import annotations

from collections.abc import Callable

from nasfast.search.base import Evaluation, SearchResult, Strategy
from nasfast.search.problem import Metrics, Problem
from nasfast.spaces.discrete import Candidate


def check_budget(budget: object, problem: Problem | None = None) -> int:
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ValueError(f"budget: expected a positive number of evaluations, got {budget!r}")
    if problem is not None and budget > problem.space.size:
        raise ValueError(
            f"budget: {budget} evaluations exceed the {problem.space.size} candidates of the space"
        )
    return budget


def minimize(
    problem: Problem,
    strategy: Strategy,
    budget: int,
    seed: int | None = None,
    *,
    callback: Callable[[SearchResult], None] | None = None,
    max_stall: int = 200,
    max_repeats: int | None = None,
    progress: bool = False,
) -> SearchResult:
    """Run ``strategy`` on ``problem`` for ``budget`` evaluations of distinct candidates.

    A candidate asked again is answered from the cache, is told to the strategy again, and does
    not count against the budget (its result is already known). The run stops early when the
    strategy proposes nothing (``"exhausted"``), or (``"stalled"``) when it proposes only repeats
    for ``max_stall`` asks in a row or ``max_repeats`` repeats in all (default ``10 * budget``; a
    converged policy would otherwise spin). ``callback(result_so_far)`` runs after every batch.
    """
    check_budget(budget, problem)
    strategy.setup(problem, seed)
    cache: dict[Candidate, Metrics] = {}
    history: list[Evaluation] = []
    result = SearchResult(problem, history, seed, strategy.name, "budget")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=budget, desc=strategy.name, leave=False)
    stall = repeats = 0
    if max_repeats is None:
        max_repeats = 10 * budget
    while len(history) < budget:
        asked = strategy.ask()
        if not asked:
            result.stopped = "exhausted"
            break
        cands = [problem.space.validate(c, name=f"{strategy.name} candidate") for c in asked]
        new: list[Candidate] = []
        seen_new: set[Candidate] = set()
        for c in cands:
            if c not in cache and c not in seen_new:
                new.append(c)
                seen_new.add(c)
        new = new[: budget - len(history)]
        for c, m in zip(new, problem.evaluate(new), strict=True):
            cache[c] = m
            history.append(Evaluation(c, m, len(history) + 1))
        told = [c for c in cands if c in cache]
        strategy.tell(told, [cache[c] for c in told])
        if bar is not None:
            bar.update(len(new))
        if callback is not None:
            callback(result)
        stall = 0 if new else stall + 1
        repeats += len(cands) - len(new)
        if stall >= max_stall or repeats > max_repeats:
            result.stopped = "stalled"
            break
    if bar is not None:
        bar.close()
    return result
