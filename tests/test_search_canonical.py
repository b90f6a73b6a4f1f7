"""Canonical forms: equivalent candidates cost one evaluation; NB201's equivalences checked
against a brute-force evaluation of every cell and against the table."""

from __future__ import annotations

import collections
import itertools
import warnings

import numpy as np
import pytest

from nasfast.search import STRATEGIES, Problem, make_strategy, minimize
from nasfast.spaces import DiscreteSpace, NB201Space
from nasfast.spaces.nb201 import EDGES, cell_expression
from nasfast.tabular import NB201Benchmark, NB201Table


def _numeric_outputs() -> np.ndarray:
    """Every cell evaluated on random inputs, each op a fixed random function of its own type:
    cells that compute the same function for any weights give the same numbers."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=8)
    W = {k: rng.normal(size=(8, 8)) for k in (2, 3)}
    bias = {k: rng.normal(size=8) for k in (2, 3)}

    def apply(op, v):
        if op == 1:
            return v
        if op == 4:  # pooling: linear, zero stays zero
            return np.sin(v) * 0.7 + 0.1 * v
        return np.tanh(W[op] @ v + bias[op])  # convolution + batch norm shift: f(0) != 0

    out = []
    for ops in itertools.product(range(5), repeat=6):
        node = {0: x}
        for j in (1, 2, 3):
            node[j] = sum(
                (apply(ops[e], node[s]) for e, (d, s) in enumerate(EDGES) if d == j and ops[e]),
                np.zeros(8),
            )
        out.append(node[3])
    return np.round(np.array(out), 9)


def test_nb201_canonical_matches_brute_force_evaluation():
    outputs = _numeric_outputs()
    by_value = collections.defaultdict(set)
    by_key = collections.defaultdict(set)
    for i, ops in enumerate(itertools.product(range(5), repeat=6)):
        by_value[outputs[i].tobytes()].add(i)
        by_key[cell_expression(ops)].add(i)
    assert sorted(map(sorted, by_value.values())) == sorted(map(sorted, by_key.values()))
    assert len(by_key) == NB201Space().count_distinct() == 5545


def test_nb201_equivalent_cells_differ_only_by_training_noise():
    """The table trained every cell on its own: equivalent cells differ by seed noise only,
    far less than unrelated cells or than cells a wrong rule (pool = skip) would merge."""
    t = NB201Table.load()
    acc = t.columns["acc200_val_c10valid"]

    def spread(key):
        groups = collections.defaultdict(list)
        for i in range(len(t)):
            groups[key(tuple(int(v) for v in t.ops[i]))].append(i)
        return np.mean([abs(acc[g[0]] - acc[j]) for g in groups.values() for j in g[1:]])

    ours = spread(cell_expression)
    wrong = spread(lambda o: cell_expression(tuple(1 if v == 4 else v for v in o)))
    unrelated = np.mean(np.abs(acc[1:] - acc[:-1]))
    assert ours < 0.6 and wrong > 3 * ours and unrelated > 4 * ours


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_no_strategy_pays_twice_for_one_nb201_architecture(name):
    bench = NB201Benchmark("cifar10")
    problem = Problem.from_benchmark(bench)
    if name == "nsga2":
        bench = NB201Benchmark("cifar10", ["accuracy", "params"], fidelity=200)
        problem = Problem.from_benchmark(bench)
    kw = {"rea": {"population_size": 10}, "nsga2": {"pop_size": 10}}.get(name, {})
    res = minimize(problem, make_strategy(name, **kw), 40, seed=0)
    keys = [problem.space.canonical(e.candidate) for e in res.history]
    assert len(keys) == len(set(keys)) == res.n_evals == bench.n_queries


def test_a_user_canonical_form_counts_against_the_budget_once():
    class Symmetric(DiscreteSpace):
        def canonical(self, c):
            return tuple(sorted(c))  # the positions are interchangeable

    space = Symmetric([4, 4, 4])
    calls = []
    prob = Problem(space, lambda c: calls.append(c) or {"y": float(sum(c))}, ["max:y"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = minimize(prob, make_strategy("random"), 20, seed=0)  # 20 classes exist
    assert res.n_evals == len(calls) == 20
    assert len({tuple(sorted(e.candidate)) for e in res.history}) == 20
    with pytest.warns(UserWarning, match="exceed the 20 distinct valid candidates"):
        minimize(prob, make_strategy("random"), 21, seed=0)
