"""The multi-fidelity run loop: ask jobs, evaluate them while the budget in fidelity units lasts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from nasfast._atomic import atomic_path
from nasfast.search.base import Evaluation
from nasfast.search.multifidelity.base import Job, MultiFidelityResult, Scheduler, Trial
from nasfast.search.multifidelity.problem import MultiFidelityProblem
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


def check_units(budget: object, problem: MultiFidelityProblem) -> float:
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not budget > 0:
        raise ValueError(
            f"budget: expected a positive number of {problem.fidelity.name}, got {budget!r}"
        )
    return float(budget)


def minimize_multifidelity(
    problem: MultiFidelityProblem,
    scheduler: Scheduler,
    budget: float,
    seed: int | None = None,
    *,
    progress: bool = False,
    checkpoint: str | Path | None = None,
    callback: Callable[[MultiFidelityResult], None] | None = None,
) -> MultiFidelityResult:
    """Run ``scheduler`` on ``problem`` until ``budget`` fidelity units are spent.

    A job is run only when its cost fits in what is left (the cost of a candidate's first
    evaluation is its budget; a later, larger one costs the difference when the fidelity
    ``continues``, else the whole budget); the first job that does not fit ends the run
    (``stopped="budget"``). A job asked again at a budget already evaluated is answered from the
    cache for free.

    ``checkpoint``: a JSON file rewritten atomically after every batch with the trials so far. If
    it exists when the run starts (same scheduler and seed), the schedule is replayed and every
    job the checkpoint holds is answered from it without calling the objective, so a run killed
    and restarted ends exactly as an uninterrupted one.
    """
    units = check_units(budget, problem)
    scheduler.setup(problem, seed)
    stored = _load(checkpoint, scheduler.name, seed)
    result = MultiFidelityResult(
        problem, [], seed, scheduler.name, "budget", unit=problem.fidelity.name
    )
    done: dict[Candidate, float] = {}  # highest budget each candidate was evaluated at
    cache: dict[tuple[Candidate, float], Metrics] = {}
    bar = _bar(progress, units, problem, scheduler)
    while True:
        jobs = [Job(problem.space.validate(j.candidate), j.budget) for j in scheduler.ask()]
        if not jobs:
            result.stopped = "exhausted"
            break
        runnable, over = _fit_budget(jobs, problem, done, cache, units - result.spent)
        metrics = _evaluate(problem, runnable, cache, stored, len(result.trials))
        for job, m in zip(runnable, metrics, strict=True):
            key = (job.candidate, job.budget)
            cost = (
                0.0 if key in cache else problem.fidelity.cost(job.budget, done.get(job.candidate))
            )
            cache[key] = m
            done[job.candidate] = max(done.get(job.candidate, 0.0), job.budget)
            result.spent += cost
            result.trials.append(Trial(job.candidate, job.budget, m, cost, result.spent))
            if job.budget == problem.fidelity.max:
                result.history.append(Evaluation(job.candidate, m, len(result.history) + 1))
            if bar is not None:
                bar.update(cost)
        if checkpoint is not None and runnable:
            _save(checkpoint, scheduler.name, seed, result.trials)
        scheduler.record(runnable, metrics)
        if bar is not None:
            bar.set_postfix_str(scheduler.state(), refresh=False)
        if callback is not None:
            callback(result)
        if over:
            break
    if bar is not None:
        bar.close()
    return result


def _fit_budget(jobs, problem, done, cache, left) -> tuple[list[Job], bool]:
    """The leading jobs whose costs fit in ``left``; True when one did not fit."""
    out: list[Job] = []
    seen_done = dict(done)
    for j in jobs:
        problem.fidelity.check(j.budget)
        key = (j.candidate, j.budget)
        cost = 0.0 if key in cache else problem.fidelity.cost(j.budget, seen_done.get(j.candidate))
        if cost > left + 1e-9:
            return out, True
        left -= cost
        seen_done[j.candidate] = max(seen_done.get(j.candidate, 0.0), j.budget)
        out.append(j)
    return out, False


def _evaluate(problem, jobs: Sequence[Job], cache, stored: list, n_before: int) -> list[Metrics]:
    """Metrics of each job: cached, replayed from the checkpoint, or evaluated (batched per
    budget, in order)."""
    out: list[Metrics | None] = []
    todo: dict[float, list[int]] = {}
    k = n_before
    for i, j in enumerate(jobs):
        key = (j.candidate, j.budget)
        if k < len(stored):
            c, b, m = stored[k]
            if c != j.candidate or b != j.budget:
                raise ValueError(
                    f"checkpoint: trial {k + 1} holds {list(c)} at {b}, the schedule asks "
                    f"{list(j.candidate)} at {j.budget} (a different problem or settings?)"
                )
            out.append(m)
        elif key in cache:
            out.append(cache[key])
        else:
            out.append(None)
            todo.setdefault(j.budget, []).append(i)
        k += 1
    for b, idx in todo.items():
        for i, m in zip(idx, problem.evaluate_at([jobs[i].candidate for i in idx], b), strict=True):
            out[i] = m
    return out  # type: ignore[return-value]


def _bar(progress: bool, units: float, problem, scheduler):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=units, desc=scheduler.name, unit=problem.fidelity.name, leave=False)


def _load(path: str | Path | None, name: str, seed: int | None) -> list:
    if path is None or not Path(path).is_file():
        return []
    data = json.loads(Path(path).read_text())
    if data.get("scheduler") != name or data.get("seed") != seed:
        raise ValueError(
            f"checkpoint: {path} holds scheduler {data.get('scheduler')!r} seed "
            f"{data.get('seed')}, not {name!r} seed {seed}"
        )
    return [(tuple(t["candidate"]), float(t["budget"]), t["metrics"]) for t in data["trials"]]


def _save(path: str | Path, name: str, seed: int | None, trials: list[Trial]) -> None:
    data = {
        "scheduler": name,
        "seed": seed,
        "trials": [
            {"candidate": list(t.candidate), "budget": t.budget, "metrics": t.metrics}
            for t in trials
        ],
    }
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(data, f, default=float)
