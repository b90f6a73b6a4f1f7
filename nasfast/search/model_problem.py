"""A search problem over a model space: each candidate is frozen to a plain model and handed to
the user's trainer ``evaluate(model, fidelity) -> metrics``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from nasfast.search.problem import Metrics, Objective, Problem
from nasfast.spaces.discrete import Candidate
from nasfast.spaces.model import ModelDiscreteSpace, ModelSpace

Trainer = Callable[[nn.Module, Any], Metrics]


class ModelProblem(Problem):
    """``Problem`` whose objective trains and scores the frozen model of each candidate.

    Args:
        space: a :class:`ModelSpace` (or its discrete view).
        evaluate: ``evaluate(model, fidelity) -> dict`` of metrics (train the model for
            ``fidelity`` epochs, steps or a data fraction, as the trainer defines it).
        objectives: which metrics to optimise (see :class:`~nasfast.search.Objective`).
        fidelity: passed to ``evaluate`` by :meth:`evaluate`; :meth:`evaluate_at` takes another.
        deduplicate: train once per distinct model: candidates that differ only in choices the
            model does not contain (see :meth:`ModelSpace.freeze_and_key`) share the metrics of
            the first one at the same fidelity (``trained`` counts the real calls).
        kwargs: the rest of :class:`Problem`'s arguments (scalarisation, bounds).
    """

    def __init__(
        self,
        space: ModelSpace | ModelDiscreteSpace,
        evaluate: Trainer,
        objectives: Sequence[Objective | str | tuple[str, str | bool]],
        *,
        fidelity: Any = None,
        deduplicate: bool = True,
        **kwargs: Any,
    ) -> None:
        if isinstance(space, ModelSpace):
            space = space.discrete()
        if not isinstance(space, ModelDiscreteSpace):
            raise ValueError(f"space: expected a ModelSpace, got {type(space).__name__}")
        if not callable(evaluate):
            raise ValueError("evaluate: expected a callable evaluate(model, fidelity) -> dict")
        self.trainer = evaluate
        self.fidelity = fidelity
        self.deduplicate = deduplicate
        self.trained = 0
        self._seen: dict[tuple[str, str], Metrics] = {}
        super().__init__(space, self._objective, objectives, **kwargs)

    def _objective(self, c: Candidate) -> Metrics:
        model, key = self.space.model_space.freeze_and_key(self.space.arch(c))
        cache_key = (key, repr(self.fidelity))
        if self.deduplicate and cache_key in self._seen:
            return dict(self._seen[cache_key])
        metrics = self.trainer(model, self.fidelity)
        self.trained += 1
        if self.deduplicate and isinstance(metrics, dict):
            self._seen[cache_key] = dict(metrics)
        return metrics

    def evaluate_at(self, cands: Sequence[Candidate], fidelity: Any) -> list[Metrics]:
        """Metrics of ``cands`` trained at ``fidelity`` (for multi-fidelity schedulers)."""
        saved, self.fidelity = self.fidelity, fidelity
        try:
            return self.evaluate(cands)
        finally:
            self.fidelity = saved
