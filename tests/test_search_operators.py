"""Operator objects: the defaults reproduce the strategies' own behaviour, an initial population
is evaluated first, and swapped operators are the ones used."""

from __future__ import annotations

import numpy as np
import pytest
from search_helpers import synthetic

from nasfast.search import NSGA2, RegularizedEvolution, minimize
from nasfast.search.operators import Crossover, InitialPopulation, Mutation, Sampling
from nasfast.spaces import DiscreteSpace

INITIAL = [(0, 0, 0, 0, 0), (1, 1, 1, 1, 1), (2, 2, 2, 2, 2)]


def _history(strategy, budget=40, seed=3):
    problem, _ = synthetic(batched=True)
    return [e.candidate for e in minimize(problem, strategy, budget, seed=seed).history]


def test_initial_population_is_evaluated_first_then_uniform_samples():
    space = DiscreteSpace([3] * 5)
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    drawn = InitialPopulation(INITIAL)(space, rng_a, 8)
    assert drawn[:3] == INITIAL and drawn[3:] == space.sample(rng_b, 5)
    assert InitialPopulation(INITIAL)(space, rng_a, 2) == INITIAL[:2]
    with pytest.raises(ValueError, match="^initial population: "):
        InitialPopulation([(0, 0, 7, 0, 0)])(space, rng_a, 4)


@pytest.mark.parametrize("make", [
    lambda s: RegularizedEvolution(population_size=8, sample_size=3, batch_size=4, sampling=s),
    lambda s: NSGA2(pop_size=8, n_offsprings=4, sampling=s),
])  # fmt: skip
def test_strategies_start_from_the_initial_population(make):
    history = _history(make(INITIAL))
    assert history[:3] == INITIAL
    assert _history(make(InitialPopulation(INITIAL))) == history
    # without one, the first population is uniform: the same run as the default operator
    assert _history(make(None)) == _history(make(Sampling())) != history


def test_default_operators_equal_the_shortcut_arguments():
    shortcut = RegularizedEvolution(population_size=8, n_mutations=2, crossover_prob=0.5)
    explicit = RegularizedEvolution(
        population_size=8, mutation=Mutation(2), crossover=Crossover(0.5)
    )
    assert _history(shortcut, 60) == _history(explicit, 60)


class _CountingMutation(Mutation):
    def __init__(self) -> None:
        super().__init__(1)
        self.calls = 0

    def __call__(self, space, parent, rng):
        self.calls += 1
        return super().__call__(space, parent, rng)


def test_a_swapped_operator_is_the_one_used():
    mutation = _CountingMutation()
    _history(RegularizedEvolution(population_size=8, batch_size=4, mutation=mutation))
    assert mutation.calls >= 40 - 8  # one per child at least


def test_crossover_never_draws_at_probability_zero():
    space = DiscreteSpace([3] * 5)
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert Crossover(0.0)(space, INITIAL[0], INITIAL[1], rng) == INITIAL[0]
    assert rng.bit_generator.state == state


@pytest.mark.parametrize("bad, match", [
    (lambda: Mutation(0), "^n_mutations: "),
    (lambda: Crossover(1.5), "^crossover_prob: "),
    (lambda: RegularizedEvolution(sampling=5), "^sampling: "),
])  # fmt: skip
def test_bad_operators(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()
