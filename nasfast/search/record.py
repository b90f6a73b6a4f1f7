"""Recording evaluations into a run's result and telling them to the strategy (shared by the
batch loop and the steady-state loop)."""

from __future__ import annotations

from collections.abc import Sequence

from nasfast.search.base import Evaluation, FailedEvaluation, SearchResult, Strategy
from nasfast.search.problem import Failure, Metrics, Problem
from nasfast.spaces.discrete import Candidate

Outcome = Metrics | Failure


def spent(result: SearchResult) -> int:
    return len(result.history) + len(result.failures)


def record(result: SearchResult, c: Candidate, out: Outcome) -> None:
    step = spent(result) + 1
    if isinstance(out, Failure):
        result.failures.append(FailedEvaluation(c, out.error, step))
    else:
        result.history.append(Evaluation(c, out, step))


def tell_outcomes(
    strategy: Strategy,
    problem: Problem,
    result: SearchResult,
    told: Sequence[tuple[Candidate, Outcome]],
) -> None:
    """Tell the strategy every answered candidate; failed ones as a penalized result."""
    penalty = None
    if any(isinstance(out, Failure) for _, out in told):
        penalty = problem.penalty([e.metrics for e in result.history])
    cands = [c for c, _ in told]
    metrics = [penalty if isinstance(out, Failure) else out for _, out in told]
    strategy.tell(cands, metrics)  # type: ignore[arg-type]


def progress_bar(progress: bool, budget: int, name: str):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=budget, desc=name, leave=False)
