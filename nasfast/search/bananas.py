"""BANANAS (White et al., "BANANAS: Bayesian Optimization with Neural Architectures for Neural
Architecture Search", AAAI 2021): a predictor with uncertainty, fit on everything evaluated, picks
the next candidates among mutations of the best so far through an acquisition function."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from nasfast.estimate.predictors import MODELS, ArchPredictor, make_predictor
from nasfast.search.base import Strategy
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate, DiscreteSpace
from nasfast.spaces.nb201 import NB201Space

ACQUISITIONS = ("its", "ucb", "mean")
PredictorFactory = Callable[[DiscreteSpace], ArchPredictor]


class Bananas(Strategy):
    """Predictor-guided search on any :class:`~nasfast.spaces.DiscreteSpace`.

    The first ``n_initial`` candidates are uniform samples. Then, each ask: fit the predictor on
    every (candidate, fitness) told so far; mutate the ``n_parents`` best candidates (1 to
    ``max_mutations`` positions) into up to ``n_candidates`` unseen ones, add ``n_random`` uniform
    samples; return the ``batch_size`` best by the acquisition.

    Args:
        predictor: a model name (``mlp``: the BANANAS MLP ensemble, ``rf``, ``gp``, ``lgb``,
            ``gcn``) or ``f(space) -> ArchPredictor``.
        encoding: for a named predictor: ``onehot`` (default, any space), or on NAS-Bench-201
            ``path`` (the BANANAS paper's), ``adjacency``, ``auto`` (path there, else one-hot).
            On NAS-Bench-201 the one-hot ensemble searched better than the path one.
        features: extra predictor features (callables or encodings, e.g. zero-cost proxy
            scores); on NAS-Bench-201 ``"zc"`` names the table's zero-cost numbers (Zen-score,
            parameters, FLOPs).
        acquisition: ``its`` (independent Thompson sampling: one draw from each candidate's
            predicted normal), ``ucb`` (mean + ``ucb_beta`` * std) or ``mean``.
        predictor_kwargs: passed to the named model.
    """

    name = "bananas"

    def __init__(
        self,
        predictor: str | PredictorFactory = "mlp",
        encoding: str = "onehot",
        features: Any = None,
        acquisition: str = "its",
        n_initial: int = 20,
        batch_size: int = 5,
        n_candidates: int = 200,
        n_parents: int = 10,
        max_mutations: int = 1,
        n_random: int = 0,
        ucb_beta: float = 1.0,
        predictor_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(predictor, str) and predictor not in MODELS:
            raise ValueError(f"predictor: expected one of {', '.join(MODELS)}, got {predictor!r}")
        if not isinstance(predictor, str) and not callable(predictor):
            raise ValueError("predictor: expected a model name or f(space) -> ArchPredictor")
        if acquisition not in ACQUISITIONS:
            raise ValueError(
                f"acquisition: expected one of {', '.join(ACQUISITIONS)}, got {acquisition!r}"
            )
        for name, v, lo in (
            ("n_initial", n_initial, 2),
            ("batch_size", batch_size, 1),
            ("n_candidates", n_candidates, 1),
            ("n_parents", n_parents, 1),
            ("max_mutations", max_mutations, 1),
            ("n_random", n_random, 0),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")
        if not float(ucb_beta) >= 0:
            raise ValueError(f"ucb_beta: expected a number >= 0, got {ucb_beta!r}")
        self.predictor = predictor
        self.encoding = encoding
        self.features = features
        self.acquisition = acquisition
        self.n_initial = n_initial
        self.batch_size = batch_size
        self.n_candidates = n_candidates
        self.n_parents = n_parents
        self.max_mutations = max_mutations
        self.n_random = n_random
        self.ucb_beta = float(ucb_beta)
        self.predictor_kwargs = dict(predictor_kwargs or {})

    def _setup(self) -> None:
        self.model = self._make_predictor()
        if self.acquisition != "mean" and not self.model.has_std:
            raise ValueError(
                f"acquisition: {self.acquisition!r} needs a predictor with uncertainty "
                f"({self.model.model.name} has none); use 'mean'"
            )
        self.fitness: dict[Candidate, float] = {}
        self.seen: set[Hashable] = set()  # canonical keys (equivalent candidates count once)

    def _features(self) -> Any:
        if not isinstance(self.features, str):
            return self.features
        if self.features != "zc" or not isinstance(self.space, NB201Space):
            raise ValueError(
                "features: the only named features are 'zc' on NAS-Bench-201, "
                f"got {self.features!r}"
            )
        from nasfast.estimate.predictors import table_proxy_features

        return table_proxy_features(getattr(self.problem.objective, "dataset", "cifar10"))

    def _make_predictor(self) -> ArchPredictor:
        if isinstance(self.predictor, str):
            return make_predictor(
                self.predictor, self.space, self.encoding, self._features(), **self.predictor_kwargs
            )
        model = self.predictor(self.space)
        if not isinstance(model, ArchPredictor):
            raise ValueError(f"predictor: the factory returned {type(model).__name__}")
        return model

    def ask(self) -> list[Candidate]:
        if len(self.fitness) < self.n_initial:
            return self._random(self.n_initial - len(self.fitness))
        cands = self._candidates()
        if not cands:
            return self._random(self.batch_size)
        return [cands[i] for i in self._select(cands)]

    def _random(self, n: int) -> list[Candidate]:
        out: list[Candidate] = []
        for _ in range(100 * n):
            (c,) = self.space.sample(self.rng, 1)
            key = self.space.canonical(c)
            if key not in self.seen:
                self.seen.add(key)
                out.append(c)
                if len(out) == n:
                    break
        return out

    def _candidates(self) -> list[Candidate]:
        ranked = sorted(self.fitness, key=lambda c: -self.fitness[c])[: self.n_parents]
        out: dict[Hashable, Candidate] = {}
        last_new = 0
        for i in range(20 * self.n_candidates):
            # stop when full, or when the unseen mutations have run out (100 misses in a row)
            if len(out) >= self.n_candidates or i - last_new > 100:
                break
            k = int(self.rng.integers(1, self.max_mutations + 1))
            child = self.space.mutate(ranked[i % len(ranked)], self.rng, k)
            key = self.space.canonical(child)
            if key not in self.seen and key not in out:
                out[key] = child
                last_new = i
        for c in self.space.sample(self.rng, self.n_random):  # far from the best: exploration
            key = self.space.canonical(c)
            if key not in self.seen:
                out.setdefault(key, c)
        return list(out.values())

    def _select(self, cands: list[Candidate]) -> list[int]:
        told = list(self.fitness)
        self.model.fit(told, [self.fitness[c] for c in told], seed=self.seed_int())
        if self.acquisition == "mean":
            score = self.model.predict(cands)
        else:
            mean, std = self.model.predict_dist(cands)
            if self.acquisition == "ucb":
                score = mean + self.ucb_beta * std
            else:
                score = self.rng.normal(mean, std)
        pick = np.argsort(-score, kind="stable")[: self.batch_size]
        self.seen.update(self.space.canonical(cands[i]) for i in pick)
        return [int(i) for i in pick]

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        if not cands:
            return
        fit = np.asarray(self.problem.fitness(metrics), dtype=float)
        for c, f in zip(cands, fit, strict=True):
            self.seen.add(self.space.canonical(c))
            self.fitness[c] = float(f)
