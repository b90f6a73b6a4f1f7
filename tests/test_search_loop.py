"""The run loop: budgets, checkpoints, resume after a kill."""

from __future__ import annotations

import json

import pytest
from search_helpers import synthetic

from nasfast.search import (
    make_strategy,
    minimize,
)


@pytest.mark.parametrize("budget", [0, -3, 2.5, "10", True])
def test_bad_budgets(budget):
    problem, _ = synthetic()
    with pytest.raises(ValueError, match="^budget: ") as e:
        minimize(problem, make_strategy("rea"), budget=budget)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("name", ["rea", "nsga2", "bo"])
def test_checkpoint_resume_after_kill_gives_same_result(name, tmp_path):
    ckpt = tmp_path / "run.json"
    problem, calls = synthetic(batched=True)
    full = minimize(problem, make_strategy(name), 60, seed=4)

    class Killed(Exception):
        pass

    def kill(result):
        if result.n_evals >= 25:
            raise Killed

    with pytest.raises(Killed):
        minimize(problem, make_strategy(name), 60, seed=4, checkpoint=ckpt, callback=kill)
    n_saved = len(json.loads(ckpt.read_text())["history"])
    assert n_saved >= 25
    calls.clear()
    resumed = minimize(problem, make_strategy(name), 60, seed=4, checkpoint=ckpt)
    assert [e.candidate for e in resumed.history] == [e.candidate for e in full.history]
    assert [e.metrics for e in resumed.history] == [e.metrics for e in full.history]
    assert sum(calls) == 60 - n_saved  # the saved part is not evaluated again
    with pytest.raises(ValueError, match="^checkpoint: "):
        minimize(problem, make_strategy(name), 60, seed=5, checkpoint=ckpt)


def test_minimize_over_seeds_is_one_fresh_run_per_seed():
    from nasfast.search.seeds import minimize_over_seeds

    made = []

    def make_problem():
        made.append(synthetic()[0])
        return made[-1]

    runs = minimize_over_seeds(make_problem, lambda: make_strategy("rea"), 20, [4, 9])
    assert [r.seed for r in runs] == [4, 9] and len(made) == 2
    for r in runs:
        alone = minimize(synthetic()[0], make_strategy("rea"), 20, seed=r.seed)
        assert [e.candidate for e in r.history] == [e.candidate for e in alone.history]
