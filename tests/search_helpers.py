"""Small problems with known optima shared by the search tests (a 3^5 and a 3^6 space)."""

from __future__ import annotations

import numpy as np

from nasfast.pareto import pareto_front
from nasfast.search import Problem
from nasfast.spaces import DiscreteSpace

TARGET = (2, 0, 1, 2, 1)


def synthetic(batched: bool = False):
    space = DiscreteSpace([3] * 5)
    calls = []

    def score(c):
        return {"score": -sum(a != b for a, b in zip(c, TARGET, strict=True)) + 0.01 * c[0]}

    if batched:

        def objective(cands):
            calls.append(len(cands))
            return [score(c) for c in cands]

    else:
        objective = score
    return Problem(space, objective, ["max:score"], batched=batched), calls


A = np.array([1.0, 2.0, 3.5, 4.5, 6.0, 7.5])


B = np.array([7.0, 5.5, 4.0, 3.0, 2.5, 1.0])


def two_objective():
    space = DiscreteSpace([3] * 6)

    def f(c):
        x = np.array(c, dtype=float)
        return {"cost": float(A @ x), "error": float(B @ (2 - x) ** 2)}

    problem = Problem(space, f, [("cost", "min"), ("error", "min")], bounds=[(0, 49), (0, 92)])
    allc = list(space.enumerate())
    F = problem.F([f(c) for c in allc])
    exact = {allc[i] for i in pareto_front(F)}
    return problem, exact, allc
