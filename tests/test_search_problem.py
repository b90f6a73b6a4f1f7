"""Problems: explicit directions, what callables receive, failures, the penalty strategies see."""

from __future__ import annotations

import math

import pytest

from nasfast.search import Problem, make_strategy, minimize
from nasfast.spaces import DiscreteSpace


def test_a_bare_objective_name_is_refused():
    space = DiscreteSpace([2, 2])
    with pytest.raises(ValueError, match=r"^objectives: 'latency' has no direction") as e:
        Problem(space, lambda c: {}, [("acc", "max"), "latency"])
    assert "\n" not in str(e.value)
    p = Problem(space, lambda c: {}, ["max:acc", "min:latency:raspi4", ("size", "min")])
    assert [(o.name, o.maximize) for o in p.objectives] == [
        ("acc", True),
        ("latency:raspi4", False),
        ("size", False),
    ]


def test_constraints_receive_option_values_by_default():
    space = DiscreteSpace(
        [["relu", "gelu"], [16, 32, 64]], names=["act", "width"], constraints=lambda c: c[1] <= 32
    )
    valid = list(space.enumerate())
    assert len(valid) == 4 and all(space.values(c)[1] <= 32 for c in valid)
    named = DiscreteSpace([["relu", "gelu"], [16, 32, 64]], names=["act", "width"],
                          constraints=lambda c: c.width == 64 and c.act == "gelu")  # fmt: skip
    assert list(named.enumerate()) == [(1, 2)]


def test_indices_on_request():
    space = DiscreteSpace([["relu", "gelu"], [16, 32, 64]], constraints=lambda c: c[1] <= 1,
                          candidates_as="indices")  # fmt: skip
    assert [space.values(c)[1] for c in space.enumerate()] == [16, 32, 16, 32]
    with pytest.raises(ValueError, match="^candidates_as: "):
        DiscreteSpace([2], candidates_as="codes")


def test_the_objective_receives_values_unless_told_otherwise():
    space = DiscreteSpace([["a", "b"], [10, 20]], names=["kind", "width"])
    got = []
    prob = Problem(space, lambda c: got.append(c) or {"w": c.width}, ["max:w"])
    prob.evaluate([(1, 1)])
    assert got[-1] == ("b", 20) and got[-1].kind == "b"
    prob = Problem(
        space, lambda c: got.append(c) or {"w": c[1]}, ["max:w"], candidates_as="indices"
    )
    prob.evaluate([(1, 1)])
    assert got[-1] == (1, 1)


def _flaky(c):
    if c[0] == 0:
        raise RuntimeError("training diverged\nat step 3")
    if c[0] == 1:
        return {"acc": math.nan}
    if c[0] == 2:
        return {"acc": None}
    return {"acc": float(sum(c))}


def test_failed_evaluations_are_recorded_and_the_run_goes_on():
    space = DiscreteSpace([6, 4, 4])
    prob = Problem(space, _flaky, ["max:acc"])
    res = minimize(prob, make_strategy("rea", population_size=6), 40, seed=0, max_failures=None)
    assert res.n_evals + len(res.failures) == 40  # failures count against the budget
    assert res.failures and all(f.candidate[0] in (0, 1, 2) for f in res.failures)
    errors = {f.candidate[0]: f.error for f in res.failures}
    assert errors.get(0) == "RuntimeError: training diverged at step 3"
    assert errors.get(2, "metric 'acc' is None") == "metric 'acc' is None"
    assert all(e.candidate[0] >= 3 for e in res.history)
    steps = sorted([e.step for e in res.history] + [f.step for f in res.failures])
    assert steps == list(range(1, 41))


def _failing_half(name):
    """Half of a 6^3 space fails (the first position below 3); 60 evaluations."""
    objectives = ["max:acc"] if name != "nsga2" else ["max:acc", "min:z"]

    def f(c):
        out = _flaky(c)
        return out if not isinstance(out, dict) else {**out, "z": 0.0}

    prob = Problem(DiscreteSpace([6, 6, 6]), f, objectives)
    kw = {"nsga2": {"pop_size": 8}, "rea": {"population_size": 8}}.get(name, {})
    return minimize(prob, make_strategy(name, **kw), 60, seed=1, max_failures=None)


@pytest.mark.parametrize("name", ["rea", "reinforce", "bo", "local", "nsga2"])
def test_strategies_are_told_failures_and_move_away(name):
    res = _failing_half(name)
    assert res.n_evals > 0 and res.best.candidate[0] >= 3
    # told a penalized result, they fail less often than blind sampling does
    assert len(res.failures) < len(_failing_half("random").failures)


def test_max_failures_stops_the_run_with_a_warning():
    prob = Problem(DiscreteSpace([4, 4]), lambda c: 1 / 0, ["max:acc"])
    with pytest.warns(UserWarning, match=r"^max_failures: 4 evaluations failed.*ZeroDivisionError"):
        res = minimize(prob, make_strategy("random"), 10, seed=0, max_failures=3)
    assert res.stopped == "failures" and len(res.failures) == 4 and not res.history


def test_a_missing_metric_is_an_error_naming_it():
    prob = Problem(DiscreteSpace([3]), lambda c: {"loss": 1.0}, ["max:acc"])
    with pytest.raises(ValueError, match=r"^objectives: metric 'acc' missing"):
        minimize(prob, make_strategy("random"), 2, seed=0)


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_a_bad_seed_is_one_line(seed):
    prob = Problem(DiscreteSpace([3]), lambda c: {"acc": 1.0}, ["max:acc"])
    with pytest.raises(ValueError, match=r"^seed: expected None or an int >= 0"):
        minimize(prob, make_strategy("random"), 2, seed=seed)


def test_penalty_is_worse_than_everything_seen():
    prob = Problem(DiscreteSpace([3]), lambda c: {}, ["max:acc", "min:lat"])
    p = prob.penalty([{"acc": 0.5, "lat": 3.0}, {"acc": 0.9, "lat": 1.0}])
    assert p["acc"] < 0.5 and p["lat"] > 3.0
