"""NSGA-II (Deb et al., 2002) through pymoo, with operators for a categorical genome.

- sampling from the space (constraints respected), or a given initial population (``sampling=``);
- uniform crossover (pymoo's UX), off by default (see ``crossover_prob``);
- categorical mutation: one gene per child (default), or each gene with probability
  ``mutation_prob`` (at least one), is redrawn among the *other* choices of its position;
- duplicates eliminated against the population, the offspring and every candidate evaluated
  before, so no evaluation is spent twice;
- rank-and-crowding survival by nasfast's Pareto engine (``NasfastRankAndCrowding``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2 as _PymooNSGA2
from pymoo.core.crossover import Crossover as _PymooCrossover
from pymoo.core.duplicate import DuplicateElimination
from pymoo.core.evaluator import Evaluator
from pymoo.core.mutation import Mutation
from pymoo.core.population import Population
from pymoo.core.problem import Problem as _PymooProblem
from pymoo.core.repair import Repair
from pymoo.core.sampling import Sampling as _PymooSampling
from pymoo.operators.crossover.ux import UniformCrossover
from pymoo.problems.static import StaticProblem

from nasfast.pareto import NasfastRankAndCrowding
from nasfast.search.base import Strategy
from nasfast.search.operators import Sampling, as_sampling
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate, DiscreteSpace


class _SpaceProblem(_PymooProblem):
    """pymoo's view of the space: integer genes 0..n_i-1 (evaluation happens outside, ask/tell)."""

    def __init__(self, space: DiscreteSpace, n_obj: int, n_ieq_constr: int = 0) -> None:
        super().__init__(
            n_var=space.n_positions,
            n_obj=n_obj,
            n_ieq_constr=n_ieq_constr,
            xl=0,
            xu=space.n_choices - 1,
            vtype=int,
        )
        self.space = space


class SpaceSampling(_PymooSampling):
    """pymoo's view of a nasfast sampling operator, drawing from the strategy's ``rng``."""

    def __init__(self, space: DiscreteSpace, rng: np.random.Generator, sampling: Sampling) -> None:
        super().__init__()
        self.space, self.rng, self.sampling = space, rng, sampling

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        return np.array(self.sampling(self.space, self.rng, n_samples), dtype=np.int64)


class CategoricalMutation(Mutation):
    """Redraw genes among the other choices of their position: each gene with probability
    ``prob_var``, and at least one per child; ``prob_var=None``: exactly one gene (the child is a
    uniformly drawn neighbor of its parent)."""

    def __init__(self, space: DiscreteSpace, prob_var: float | None = None) -> None:
        super().__init__(prob=1.0)
        self.space = space
        self.p = prob_var

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        X = np.asarray(X, dtype=np.int64).copy()
        n = self.space.n_choices
        p = self.p if self.p is not None else 0.0
        mask = (random_state.random(X.shape) < p) & (n[None, :] > 1)
        none = ~mask.any(axis=1)  # every child changes at least one gene
        if none.any():
            mutable = np.flatnonzero(n > 1)
            cols = mutable[random_state.integers(0, len(mutable), size=int(none.sum()))]
            mask[np.flatnonzero(none), cols] = True
        shift = random_state.integers(1, np.maximum(n, 2)[None, :].repeat(len(X), 0))
        X[mask] = ((X + shift) % n[None, :])[mask]
        return X


class ConstraintRepair(Repair):
    """Replace a candidate that violates the space's constraints by a valid one close to it:
    mutations of growing size, the nearest valid candidate, a uniform sample as a last resort
    (:meth:`DiscreteSpace.repair`)."""

    def __init__(self, space: DiscreteSpace, rng: np.random.Generator) -> None:
        super().__init__()
        self.space, self.rng = space, rng

    def _do(self, problem, X, **kwargs):
        if not self.space.constraints:
            return X
        X = np.asarray(X, dtype=np.int64).copy()
        for i, x in enumerate(X):
            if not self.space.is_valid(x):
                X[i] = self.space.repair(x, self.rng)
        return X


class ArchiveDuplicateElimination(DuplicateElimination):
    """A candidate is a duplicate if it is equivalent (same ``space.canonical`` key) to one in
    the batch, in ``others``, or in the archive of everything evaluated so far."""

    def __init__(self, space: DiscreteSpace, archive: set[Hashable]) -> None:
        super().__init__()
        self.space = space
        self.archive = archive

    def _do(self, pop, other, is_duplicate):
        X = [self.space.canonical(tuple(int(v) for v in x)) for x in pop.get("X")]
        if other is None:
            seen: set[Hashable] = set()
            for i, x in enumerate(X):
                if x in seen or x in self.archive:
                    is_duplicate[i] = True
                seen.add(x)
        else:
            others = {self.space.canonical(tuple(int(v) for v in x)) for x in other.get("X")}
            for i, x in enumerate(X):
                if x in others:
                    is_duplicate[i] = True
        return is_duplicate


class NSGA2(Strategy):
    """NSGA-II on all objectives of the problem (a scalarized problem is still searched on its
    objectives: the front is the result).

    Args:
        pop_size: population size.
        n_offsprings: offspring per generation (default ``pop_size // 2``).
        mutation_prob: per-gene mutation probability (default: exactly one gene per child).
        crossover_prob: probability that a pair of parents is crossed over (uniform crossover).
            Default 0: on NAS-Bench-201 (accuracy, latency) crossover lowered both the
            hypervolume and the share of the exact front found (benchmarks/nb201_quality.py);
            NSGA-II then varies by mutation alone (a one-gene move to an unseen neighbor).
        ref: optional region of interest, ``{metric: bound}`` in the metric's units (e.g. the
            reference point of the hypervolume, ``{"accuracy": 85.0}``): candidates outside it
            count as infeasible by how far outside they lie (pymoo's constraint handling), so the
            population concentrates where the hypervolume is measured.
        sampling: the initial population: a :class:`~nasfast.search.operators.Sampling` operator
            or a list of candidates to start with (the rest uniform); default uniform.
        crossover: a pymoo crossover on the integer genes (replaces ``crossover_prob``).
        mutation: a pymoo mutation on the integer genes (replaces ``mutation_prob``).
    """

    name = "nsga2"
    multi_objective = True

    def __init__(
        self,
        pop_size: int = 40,
        n_offsprings: int | None = None,
        mutation_prob: float | None = None,
        crossover_prob: float = 0.0,
        ref: dict[str, float] | None = None,
        *,
        sampling: Sampling | Sequence[Sequence[int]] | None = None,
        crossover: _PymooCrossover | None = None,
        mutation: Mutation | None = None,
    ) -> None:
        if pop_size < 2:
            raise ValueError(f"pop_size: expected >= 2, got {pop_size}")
        if mutation_prob is not None and not 0.0 < mutation_prob <= 1.0:
            raise ValueError(f"mutation_prob: expected 0 < p <= 1, got {mutation_prob}")
        if not 0.0 <= crossover_prob <= 1.0:
            raise ValueError(f"crossover_prob: expected 0..1, got {crossover_prob}")
        if n_offsprings is not None and n_offsprings < 1:
            raise ValueError(f"n_offsprings: expected >= 1, got {n_offsprings}")
        self.pop_size = pop_size
        self.n_offsprings = n_offsprings
        self.mutation_prob = mutation_prob
        self.crossover_prob = crossover_prob
        self.ref = dict(ref or {})
        self.sampling = as_sampling(sampling)
        self.crossover = crossover
        self.mutation = mutation

    def _setup(self) -> None:
        self.archive: set[Hashable] = set()
        self.algorithm = _PymooNSGA2(
            pop_size=self.pop_size,
            n_offsprings=self.n_offsprings or max(1, self.pop_size // 2),
            sampling=SpaceSampling(self.space, self.rng, self.sampling),
            crossover=(
                UniformCrossover(prob=self.crossover_prob)
                if self.crossover is None
                else self.crossover
            ),
            mutation=(
                CategoricalMutation(self.space, self.mutation_prob)
                if self.mutation is None
                else self.mutation
            ),
            repair=ConstraintRepair(self.space, self.rng),
            survival=NasfastRankAndCrowding(),
            eliminate_duplicates=ArchiveDuplicateElimination(self.space, self.archive),
        )
        names = self.problem.names
        for name in self.ref:
            if name not in names:
                raise ValueError(f"ref: {name!r} is not one of the objectives {names}")
        # the bound in minimization form, normalized like the objectives
        self._ref_cols = [names.index(n) for n in self.ref]
        bound = {n: self.ref.get(n, 0.0) for n in names}
        self._ref_F = self.problem.normalized_F([bound])[0, self._ref_cols]
        self.pymoo_problem = _SpaceProblem(self.space, self.problem.n_obj, 1 if self.ref else 0)
        self.algorithm.setup(
            self.pymoo_problem, termination=("n_gen", 10**9), seed=self.seed_int(), verbose=False
        )
        self._asked: Population | None = None

    def ask(self) -> list[Candidate]:
        pop = self.algorithm.ask()
        if pop is None or len(pop) == 0:
            return []
        self._asked = pop
        return [tuple(int(v) for v in x) for x in pop.get("X")]

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        pop, self._asked = self._asked, None
        if pop is None:
            return
        self.archive.update(self.space.canonical(c) for c in cands)
        F = {c: f for c, f in zip(cands, self.problem.F(metrics), strict=True)}
        X = [tuple(int(v) for v in x) for x in pop.get("X")]
        keep = [i for i, x in enumerate(X) if x in F]
        if not keep:
            return
        pop = pop[keep]
        kept = [metrics[cands.index(X[i])] for i in keep]
        extra = {}
        if self.ref:
            excess = self.problem.normalized_F(kept)[:, self._ref_cols] - self._ref_F
            extra["G"] = np.clip(excess, 0.0, None).sum(axis=1, keepdims=True)
        static = StaticProblem(self.pymoo_problem, F=np.array([F[X[i]] for i in keep]), **extra)
        Evaluator().eval(static, pop)
        self.algorithm.tell(infills=pop)
