"""Bayesian optimization through Optuna's samplers (TPE by default, or a Gaussian process)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasfast.search.base import Strategy
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate

SAMPLERS = ("tpe", "gp")


class BayesianOptimization(Strategy):
    """Optuna's ask/tell loop, one categorical parameter per position.

    Single-objective (or scalarized) problems optimize the fitness; an unscalarized
    multi-objective problem uses Optuna's multi-objective mode (MOTPE / GP with EHVI).

    Args:
        sampler: ``"tpe"`` (tree-structured Parzen estimator) or ``"gp"`` (Optuna's GPSampler).
        n_startup_trials: random trials before the model is used.
        batch_size: trials asked per ask.
    """

    name = "bo"
    multi_objective = True

    def __init__(
        self, sampler: str = "tpe", n_startup_trials: int = 10, batch_size: int = 1
    ) -> None:
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler: expected one of {', '.join(SAMPLERS)}, got {sampler!r}")
        if n_startup_trials < 0:
            raise ValueError(f"n_startup_trials: expected >= 0, got {n_startup_trials}")
        if batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
        self.sampler_name = sampler
        self.n_startup_trials = n_startup_trials
        self.batch_size = batch_size

    def _setup(self) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        seed = self.seed_int()
        self.single = self.problem.n_obj == 1 or self.problem.scalarization is not None
        if self.sampler_name == "tpe":
            sampler = optuna.samplers.TPESampler(
                seed=seed, n_startup_trials=self.n_startup_trials, multivariate=True
            )
        else:
            sampler = optuna.samplers.GPSampler(seed=seed, n_startup_trials=self.n_startup_trials)
        if self.single:
            directions = ["maximize"]
        else:
            directions = ["maximize" if o.maximize else "minimize" for o in self.problem.objectives]
        self.study = optuna.create_study(directions=directions, sampler=sampler)
        self.dist = {
            f"x{i}": optuna.distributions.CategoricalDistribution(list(range(int(n))))
            for i, n in enumerate(self.space.n_choices)
        }
        self.pending: dict[Candidate, list] = {}

    def ask(self) -> list[Candidate]:
        from optuna.trial import TrialState

        out = []
        for _ in range(self.batch_size):
            for _ in range(100):
                trial = self.study.ask(self.dist)
                c = tuple(int(trial.params[f"x{i}"]) for i in range(self.space.n_positions))
                if self.space.is_valid(c):
                    break
                self.study.tell(trial, state=TrialState.FAIL)
            self.pending.setdefault(c, []).append(trial)
            out.append(c)
        return out

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        from optuna.trial import TrialState

        if cands:
            if self.single:
                values = np.asarray(self.problem.fitness(metrics), dtype=float)[:, None]
            else:
                F = self.problem.F(metrics)
                sign = np.array([-1.0 if o.maximize else 1.0 for o in self.problem.objectives])
                values = F * sign  # back to the metrics' own sense
            for c, v in zip(cands, values, strict=True):
                trials = self.pending.get(c)
                if trials:
                    self.study.tell(trials.pop(), [float(x) for x in v])
        for trials in self.pending.values():  # asked but not evaluated (end of the budget)
            for t in trials:
                self.study.tell(t, state=TrialState.FAIL)
        self.pending.clear()
