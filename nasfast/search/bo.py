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

    A proposal that violates the space's constraints is told to Optuna as a penalized value
    (worse than every value seen, as failed evaluations are), not as a failed trial, which TPE
    would ignore and propose again; after ``max_invalid`` invalid proposals in a row the trial
    is a uniform valid sample. ``ask`` returns only valid candidates.

    Args:
        sampler: ``"tpe"`` (tree-structured Parzen estimator) or ``"gp"`` (Optuna's GPSampler).
        n_startup_trials: random trials before the model is used.
        batch_size: trials asked per ask.
    """

    name = "bo"
    multi_objective = True

    def __init__(
        self,
        sampler: str = "tpe",
        n_startup_trials: int = 10,
        batch_size: int = 1,
        max_invalid: int = 5,
    ) -> None:
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler: expected one of {', '.join(SAMPLERS)}, got {sampler!r}")
        if n_startup_trials < 0:
            raise ValueError(f"n_startup_trials: expected >= 0, got {n_startup_trials}")
        if batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
        if isinstance(max_invalid, bool) or not isinstance(max_invalid, int) or max_invalid < 1:
            raise ValueError(f"max_invalid: expected an int >= 1, got {max_invalid!r}")
        self.max_invalid = max_invalid
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
        self.invalid: list = []  # invalid trials waiting for a first value to penalize from
        self.told: list[list[float]] = []  # every value told, in Optuna's own sense

    def _penalty(self) -> list[float] | None:
        if not self.told:
            return None
        V = np.asarray(self.told, dtype=float)
        worst = V.min(axis=0) if self.single else None
        if self.single:
            spread = float(np.ptp(V[:, 0]))
            return [float(worst[0]) - (spread if spread > 0 else max(abs(worst[0]), 1.0))]
        out = []
        for j, o in enumerate(self.problem.objectives):
            col = V[:, j]
            bad = col.min() if o.maximize else col.max()
            margin = float(np.ptp(col)) or max(abs(float(bad)), 1.0)
            out.append(float(bad - margin) if o.maximize else float(bad + margin))
        return out

    def _flush_invalid(self) -> None:
        penalty = self._penalty()
        if penalty is not None:
            for trial in self.invalid:
                self.study.tell(trial, penalty)
            self.invalid.clear()

    def ask(self) -> list[Candidate]:
        out = []
        for _ in range(self.batch_size):
            for _ in range(self.max_invalid):
                trial = self.study.ask(self.dist)
                c = tuple(int(trial.params[f"x{i}"]) for i in range(self.space.n_positions))
                if self.space.is_valid(c):
                    break
                self.invalid.append(trial)
                self._flush_invalid()
            else:  # the model keeps proposing invalid cells: a uniform valid one instead
                c = self.space.sample(self.rng, 1)[0]
                self.study.enqueue_trial({f"x{i}": v for i, v in enumerate(c)})
                trial = self.study.ask(self.dist)
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
                self.told.append([float(x) for x in v])
                trials = self.pending.get(c)
                if trials:
                    self.study.tell(trials.pop(), [float(x) for x in v])
            self._flush_invalid()
        for trials in self.pending.values():  # asked but not evaluated (end of the budget)
            for t in trials:
                self.study.tell(t, state=TrialState.FAIL)
        self.pending.clear()
