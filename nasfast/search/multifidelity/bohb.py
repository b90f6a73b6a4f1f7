"""BOHB-style search (Falkner, Klein and Hutter, ICML 2018): Hyperband's brackets, with new
candidates proposed by a TPE model (Optuna's ``TPESampler``) fitted on the results at the largest
rung that has enough of them; a share of candidates stays uniformly random."""

from __future__ import annotations

from collections.abc import Sequence

from nasfast.search.multifidelity.base import Job
from nasfast.search.multifidelity.halving import Hyperband
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


class BOHB(Hyperband):
    """Args:
    eta: Hyperband's reduction factor.
    random_fraction: share of new candidates drawn uniformly (BOHB's default 1/3).
    n_min: results a rung needs before its model is used (default positions + 1)."""

    name = "bohb"

    def __init__(self, eta: float = 3, random_fraction: float = 1 / 3, n_min: int | None = None):
        super().__init__(eta, None)
        if not 0.0 <= random_fraction <= 1.0:
            raise ValueError(f"random_fraction: expected a share in [0, 1], got {random_fraction}")
        if n_min is not None and (not isinstance(n_min, int) or n_min < 1):
            raise ValueError(f"n_min: expected an int >= 1, got {n_min!r}")
        self.random_fraction = random_fraction
        self.n_min = n_min

    def _setup(self) -> None:
        import optuna

        super()._setup()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.observed: dict[float, dict[Candidate, float]] = {b: {} for b in self.rungs}
        self.dist = {
            f"x{i}": optuna.distributions.CategoricalDistribution(list(range(int(n))))
            for i, n in enumerate(self.space.n_choices)
        }
        self.need = self.n_min or self.space.n_positions + 1
        self.model_samples = 0

    def model_rung(self) -> float | None:
        """The largest rung with at least ``n_min`` results (None: not enough yet)."""
        for b in reversed(self.rungs):
            if len(self.observed[b]) >= self.need:
                return b
        return None

    def new_candidates(self, n: int, start: int) -> list[Candidate]:
        out: list[Candidate] = []
        for _ in range(n):
            b = self.model_rung()
            c = None
            if b is not None and self.rng.random() >= self.random_fraction:
                c = self._tpe_sample(self.observed[b])
            if c is None:
                fresh = self.fresh(1)
                if not fresh:
                    break
                c = fresh[0]
            out.append(c)
        return out

    def _tpe_sample(self, data: dict[Candidate, float]) -> Candidate | None:
        import optuna

        sampler = optuna.samplers.TPESampler(
            seed=int(self.rng.integers(0, 2**31 - 1)), n_startup_trials=0, multivariate=True
        )
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.add_trials(
            [
                optuna.trial.create_trial(
                    params={f"x{i}": int(v) for i, v in enumerate(c)},
                    distributions=self.dist,
                    value=f,
                )
                for c, f in data.items()
            ]
        )
        for _ in range(20):  # the model may propose what was already tried
            trial = study.ask(self.dist)
            c = tuple(int(trial.params[f"x{i}"]) for i in range(self.space.n_positions))
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            if c not in self.seen and self.space.is_valid(c):
                self.seen.add(c)
                self.model_samples += 1
                return c
        return None

    def tell(self, jobs: Sequence[Job], metrics: Sequence[Metrics]) -> None:
        super().tell(jobs, metrics)
        if jobs:
            for j, f in zip(jobs, self.fitness(metrics), strict=True):
                self.observed[j.budget][j.candidate] = float(f)
