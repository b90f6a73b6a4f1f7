"""Constraints: every strategy proposes only valid candidates, however few there are."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasfast.search import STRATEGIES, Problem, make_strategy, minimize
from nasfast.spaces import DiscreteSpace

SMALL = {
    "rea": {"population_size": 3, "sample_size": 2},
    "nsga2": {"pop_size": 4},
    "bananas": {"n_initial": 2},
    "naswot": {"proxy": lambda cands: [float(sum(c)) for c in cands], "n_samples": 20},
}


def _run(space, name, budget, seed=0, objectives=(("y", "max"),)):
    objectives = list(objectives)
    if name == "nsga2":
        objectives = [("y", "max"), ("z", "min")]
    asked = []

    def f(c):
        asked.append(tuple(c))
        return {"y": float(sum(c)), "z": float(c[0])}

    problem = Problem(space, f, objectives, candidates_as="indices")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # budgets above tiny valid sets
        res = minimize(problem, make_strategy(name, **SMALL.get(name, {})), budget, seed=seed)
    return res, asked


@st.composite
def constrained_spaces(draw):
    """A space of 2-4 positions with 2-5 choices each and a random valid subset: any density
    from one valid candidate to all of them."""
    n_choices = draw(st.lists(st.integers(2, 5), min_size=2, max_size=4))
    size = int(np.prod(n_choices))
    n_valid = draw(st.integers(1, size))
    seed = draw(st.integers(0, 2**16))
    valid_idx = set(np.random.default_rng(seed).choice(size, n_valid, replace=False).tolist())
    space = DiscreteSpace(n_choices, candidates_as="indices")
    space.constraints = [lambda c, s=space, v=frozenset(valid_idx): s.index(c) in v]
    return space, valid_idx


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=constrained_spaces(), seed=st.integers(0, 100))
def test_no_strategy_ever_evaluates_an_invalid_candidate(name, data, seed):
    space, valid_idx = data
    budget = min(6, len(valid_idx))
    res, asked = _run(space, name, budget, seed)
    assert asked and all(space.index(c) in valid_idx for c in asked)
    assert res.n_evals == len(asked) == len(set(asked))
    assert res.n_evals == budget or res.stopped != "budget"


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_a_handful_of_valid_points_in_a_large_space(name):
    # 45 of 59,049 valid: rejection sampling alone fails here
    space = DiscreteSpace(
        [9] * 5, constraints=lambda c: c[0] == 0 and c[1] == 0 and c[2] < 5 and c[3] < 1
    )
    res, asked = _run(space, name, 12, seed=3)
    assert res.n_evals == 12 and all(space.is_valid(c) for c in asked)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_an_empty_space_is_one_clear_error(name):
    space = DiscreteSpace([3, 3], constraints=lambda c: False)
    with pytest.raises(ValueError, match=r"^constraints: no candidate satisfies them") as e:
        _run(space, name, 3)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("seed", range(5))
def test_bo_does_not_abort_near_a_constraint_boundary(seed):
    sp = DiscreteSpace([9, 9, 9], constraints=lambda c: c[0] < 4)  # 44% valid
    prob = Problem(sp, lambda c: {"y": float(sum(c))}, [("y", "max")])
    res = minimize(prob, make_strategy("bo"), budget=100 if seed == 0 else 30, seed=seed)
    assert all(sp.is_valid(e.candidate) for e in res.history)
    assert res.n_evals == (100 if seed == 0 else 30)
    if seed == 0:
        assert res.best.metrics["y"] >= 17  # it still optimizes, next to the boundary (max 19)


def test_reinforce_under_a_tight_constraint():
    sp = DiscreteSpace([9] * 5, constraints=lambda c: c[0] == 0 and c[1] == 0 and c[2] < 7)
    prob = Problem(sp, lambda c: {"y": float(sum(c))}, [("y", "max")])
    res = minimize(prob, make_strategy("reinforce"), budget=20, seed=2)
    assert res.n_evals == 20 and all(sp.is_valid(e.candidate) for e in res.history)


def test_random_finds_all_of_45_valid_candidates():
    sp = DiscreteSpace(
        [9] * 5, constraints=lambda c: c[0] == 0 and c[1] == 0 and c[2] < 5 and c[3] < 1
    )
    prob = Problem(sp, lambda c: {"y": float(sum(c))}, [("y", "max")])
    res = minimize(prob, make_strategy("random"), budget=45, seed=0)
    assert res.n_evals == 45 and len({e.candidate for e in res.history}) == 45


def test_sampling_is_uniform_over_a_small_valid_set():
    space = DiscreteSpace([6, 6, 6], constraints=lambda c: c[0] == c[1] == c[2])  # 6 of 216
    draws = space.sample(np.random.default_rng(0), 1200)
    counts = np.unique([d[0] for d in draws], return_counts=True)[1]
    assert len(counts) == 6 and counts.min() > 140  # ~200 each


def test_sampling_does_not_depend_on_what_ran_before_on_the_space():
    space = DiscreteSpace([9] * 4, constraints=lambda c: c[0] == 0 and c[1] < 2)
    first = space.sample(np.random.default_rng(5), 10)
    space.sample(np.random.default_rng(1), 50)
    assert space.sample(np.random.default_rng(5), 10) == first


def test_nsga2_repairs_by_mutation_not_uniform_redraw():
    from nasfast.search.nsga2 import ConstraintRepair

    space = DiscreteSpace([5] * 6, constraints=lambda c: c[0] != 4)
    repair = ConstraintRepair(space, np.random.default_rng(0))
    X = np.array([[4, 1, 2, 3, 0, 1]] * 50)
    out = repair._do(None, X)
    assert all(space.is_valid(x) for x in out)
    assert all((x != X[0]).sum() == 1 for x in out)  # one position changed: a mutation


def test_budget_above_the_valid_candidates_warns_with_the_counts():
    space = DiscreteSpace([3, 3], constraints=lambda c: c[0] < 2)
    prob = Problem(space, lambda c: {"y": float(sum(c))}, ["max:y"])
    with pytest.warns(UserWarning, match=r"^budget: 10 evaluations exceed the 6 distinct valid"):
        res = minimize(prob, make_strategy("random"), 10, seed=0)
    assert res.n_evals == 6 and res.stopped == "exhausted"
