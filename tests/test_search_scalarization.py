"""Scalarizations: each finds its own optimum; single-objective strategies need one."""

from __future__ import annotations

import numpy as np
import pytest
from search_helpers import two_objective

from nasfast.search import (
    Problem,
    Scalarization,
    make_strategy,
    minimize,
)
from nasfast.spaces import (
    DiscreteSpace,
)


@pytest.mark.parametrize("kind", ["weighted", "chebyshev", "epsilon"])
def test_scalarizations_find_their_optimum(kind):
    problem, exact, allc = two_objective()
    scal = Scalarization(kind, [0.3, 0.7], primary="error", eps={"cost": 20.0})
    problem.scalarization = scal
    scal.bind(problem)
    scores = problem.fitness([problem.objective(c) for c in allc])
    optimum = allc[int(np.argmax(scores))]
    assert optimum in exact
    res = minimize(problem, make_strategy("rea"), budget=300, seed=1)
    assert res.best.candidate == optimum
    if kind == "epsilon":
        assert res.best.metrics["cost"] <= 20.0


def test_single_objective_strategy_needs_scalarization():
    problem, _, _ = two_objective()
    with pytest.raises(ValueError, match="^objectives: .*single-objective"):
        minimize(problem, make_strategy("rea"), budget=10)
    with pytest.raises(ValueError, match="^strategy: "):
        make_strategy("annealing")
    with pytest.raises(ValueError, match="^objectives: "):
        Problem(DiscreteSpace([2]), lambda c: {"a": 1.0}, ["b"]).evaluate([(0,)])
    with pytest.raises(ValueError, match="^scalarization: "):
        Scalarization("lexicographic")
