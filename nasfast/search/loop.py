"""The run loop: ask, evaluate what is new, tell, until the budget of evaluations is spent."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from nasfast._atomic import atomic_path
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
    checkpoint: str | Path | None = None,
) -> SearchResult:
    """Run ``strategy`` on ``problem`` for ``budget`` evaluations of distinct candidates.

    A candidate asked again is answered from the cache, is told to the strategy again, and does
    not count against the budget (its result is already known). The run stops early when the
    strategy proposes nothing (``"exhausted"``), or (``"stalled"``) when it proposes only repeats
    for ``max_stall`` asks in a row or ``max_repeats`` repeats in all (default ``10 * budget``; a
    converged policy would otherwise spin). ``callback(result_so_far)`` runs after every batch.

    ``checkpoint``: a JSON file rewritten atomically after every batch with the evaluations so far.
    If it exists when the run starts (same strategy and seed), the run resumes: the strategy is
    replayed from the start and every candidate it asks that the checkpoint holds is answered from
    it, counted as before, without calling the objective; so a run killed and restarted ends with
    the same history as an uninterrupted one (strategies draw all randomness from their seed).
    """
    check_budget(budget, problem)
    strategy.setup(problem, seed)
    stored = _load_checkpoint(checkpoint, strategy.name, seed)
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
        todo = [c for c in new if c not in stored]
        fresh = dict(zip(todo, problem.evaluate(todo), strict=True))
        for c in new:
            m = stored.pop(c) if c in stored else fresh[c]
            cache[c] = m
            history.append(Evaluation(c, m, len(history) + 1))
        if checkpoint is not None and todo:
            _save_checkpoint(checkpoint, strategy.name, seed, history)
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


def _load_checkpoint(path: str | Path | None, strategy: str, seed: int | None) -> dict:
    if path is None or not Path(path).is_file():
        return {}
    data = json.loads(Path(path).read_text())
    if data.get("strategy") != strategy or data.get("seed") != seed:
        raise ValueError(
            f"checkpoint: {path} holds strategy {data.get('strategy')!r} seed {data.get('seed')}, "
            f"not {strategy!r} seed {seed}"
        )
    return {tuple(e["candidate"]): e["metrics"] for e in data["history"]}


def _save_checkpoint(
    path: str | Path, strategy: str, seed: int | None, history: list[Evaluation]
) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "strategy": strategy,
        "seed": seed,
        "history": [{"candidate": list(e.candidate), "metrics": e.metrics} for e in history],
    }
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(data, f, default=float)
