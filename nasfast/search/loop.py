"""The run loop: ask, evaluate what is new, tell, until the budget of evaluations is spent.

What counts against the budget: each evaluation of a new candidate, failed ones included. Free:
a candidate asked again, or one equivalent to an evaluated one (same ``space.canonical`` key),
is answered from the cache; a candidate the space's constraints reject is never evaluated.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

from nasfast.search.base import SearchResult, Strategy
from nasfast.search.checkpoint import load_checkpoint, save_checkpoint
from nasfast.search.executors.base import Executor, InProcess, check_retries, evaluate_all
from nasfast.search.fingerprint import describe_problem, describe_strategy, plain
from nasfast.search.problem import Failure, Metrics, Problem
from nasfast.search.record import progress_bar as _bar
from nasfast.search.record import record as _record
from nasfast.search.record import spent as _spent
from nasfast.search.record import tell_outcomes as _tell
from nasfast.spaces.discrete import Candidate

Outcome = Metrics | Failure


def check_budget(budget: object, problem: Problem | None = None) -> int:
    """``budget`` as an int >= 1; with a problem, a warning when the space holds fewer distinct
    valid candidates than that (the run then stops when they are exhausted)."""
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ValueError(f"budget: expected a positive number of evaluations, got {budget!r}")
    if problem is not None:
        space = problem.space
        if budget > space.size or space.constraints or _has_canonical(space):
            distinct = space.count_distinct()
            if distinct is not None and budget > distinct:
                valid = space.count_valid()
                warnings.warn(
                    f"budget: {budget} evaluations exceed the {distinct} distinct valid "
                    f"candidates of the space ({space.size} candidates, {valid} valid); the run "
                    "stops when they are exhausted",
                    UserWarning,
                    stacklevel=3,
                )
    return budget


def _has_canonical(space) -> bool:
    from nasfast.spaces.discrete import DiscreteSpace

    return type(space).canonical is not DiscreteSpace.canonical


def check_seed(seed: object) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected None or an int >= 0, got {seed!r}")
    return seed


def evaluate_step(
    problem: Problem,
    cands: Sequence[Candidate],
    executor: Executor | None = None,
    max_retries: int = 2,
) -> list[Outcome]:
    """Evaluate new candidates: in this process (one call for a batched objective), or spread
    over the executor's workers."""
    if executor is None:
        return problem.evaluate(cands)
    return evaluate_all(executor, cands, max_retries)


def minimize(
    problem: Problem,
    strategy: Strategy,
    budget: int,
    seed: int | None = None,
    *,
    callback: Callable[[SearchResult], None] | None = None,
    max_stall: int = 200,
    max_repeats: int | None = None,
    max_failures: int | None = 10,
    progress: bool = False,
    checkpoint: str | Path | None = None,
    executor: Executor | None = None,
    max_retries: int = 2,
    order: str = "submitted",
) -> SearchResult:
    """Run ``strategy`` on ``problem`` for ``budget`` evaluations of distinct candidates.

    A candidate asked again (or one equivalent to an evaluated one, by ``space.canonical``) is
    answered from the cache, is told to the strategy again, and does not count against the
    budget. The run stops early when the strategy proposes nothing (``"exhausted"``), or
    (``"stalled"``) when it proposes only repeats for ``max_stall`` asks in a row or
    ``max_repeats`` repeats in all (default ``10 * budget``). ``callback(result_so_far)`` runs
    after every batch.

    An evaluation that raises or returns a metric that is None, NaN or infinite is recorded in
    ``result.failures`` with its error, counts against the budget, and is told to the strategy
    as a penalized result (worse than everything seen) so it moves away; after ``max_failures``
    failures (None: no limit) the run stops (``"failures"``) with a warning.

    ``checkpoint``: a JSON file rewritten atomically after every batch. If it exists when the run
    starts, it must have been made for the same problem and strategy settings (a fingerprint is
    stored; another problem is refused), and the run resumes: the strategy is replayed and every
    candidate the file holds is answered from it without calling the objective, so a run killed
    and restarted ends with the same history as an uninterrupted one.

    ``executor``: where evaluations run (default: here, one after another; see
    ``nasfast.search.executors``). A steady-state strategy (``strategy.steady_state``: random,
    REA, local search) then keeps every worker busy, told one result at a time in ``order``
    (``"submitted"``: deterministic for a seed and a worker count; ``"completed"``: as they
    arrive); the others evaluate each asked batch spread over the workers. A candidate whose
    worker dies is run again up to ``max_retries`` times, then recorded as failed.
    """
    seed = check_seed(seed)
    check_budget(budget, problem)
    check_retries(max_retries)
    if order not in ("submitted", "completed"):
        raise ValueError(f"order: expected 'submitted' or 'completed', got {order!r}")
    if isinstance(executor, InProcess):
        executor = None
    if max_failures is not None and (isinstance(max_failures, bool) or max_failures < 0):
        raise ValueError(f"max_failures: expected None or an int >= 0, got {max_failures!r}")
    identity = plain({"problem": describe_problem(problem), **describe_strategy(strategy)})
    identity["seed"] = seed
    strategy.setup(problem, seed)
    space = problem.space
    stored = load_checkpoint(checkpoint, identity, space.canonical)
    cache: dict[Hashable, Outcome] = {}
    result = SearchResult(problem, [], seed, strategy.name, "budget")
    bar = _bar(progress, budget, strategy.name)
    stall = repeats = 0
    if max_repeats is None:
        max_repeats = 10 * budget
    if executor is not None:
        executor.bind(problem)
        if strategy.steady_state:
            from nasfast.search.steady_state import Limits, SteadyState

            limits = Limits(budget, max_stall, max_repeats, max_failures, max_retries, order)

            def save() -> None:
                if checkpoint is not None:
                    save_checkpoint(checkpoint, identity, result)

            run = SteadyState(
                problem, strategy, executor, result, stored, limits, save, callback, bar
            )
            try:
                run.run()
            finally:
                if bar is not None:
                    bar.close()
            return result
    while _spent(result) < budget:
        asked = strategy.ask()
        if not asked:
            result.stopped = "exhausted"
            break
        cands = [space.validate(c, name=f"{strategy.name} candidate") for c in asked]
        keys = [space.canonical(c) for c in cands]
        new: dict[Hashable, Candidate] = {}
        for c, k in zip(cands, keys, strict=True):
            if k not in cache and k not in new:
                new[k] = c
        new = dict(list(new.items())[: budget - _spent(result)])
        todo = [c for k, c in new.items() if k not in stored]
        fresh = dict(zip(todo, evaluate_step(problem, todo, executor, max_retries), strict=True))
        for k, c in new.items():
            out = stored.pop(k) if k in stored else fresh[c]
            cache[k] = out
            _record(result, c, out)
        if checkpoint is not None and todo:
            save_checkpoint(checkpoint, identity, result)
        told = [(c, cache[k]) for c, k in zip(cands, keys, strict=True) if k in cache]
        _tell(strategy, problem, result, told)
        if bar is not None:
            bar.set_postfix(done=_spent(result), failed=len(result.failures), refresh=False)
            bar.update(len(new))
        if callback is not None:
            callback(result)
        if max_failures is not None and len(result.failures) > max_failures:
            result.stopped = "failures"
            warnings.warn(
                f"max_failures: {len(result.failures)} evaluations failed, run stopped; last "
                f"error: {result.failures[-1].error}",
                UserWarning,
                stacklevel=2,
            )
            break
        stall = 0 if new else stall + 1
        repeats += len(cands) - len(new)
        if stall >= max_stall or repeats > max_repeats:
            result.stopped = "stalled"
            break
    if bar is not None:
        bar.close()
    return result
