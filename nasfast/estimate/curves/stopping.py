"""When to stop training a candidate: its extrapolated final value cannot beat a target.

:class:`StopRule` is the test (after Domhan et al., IJCAI 2015: stop when the final value is
unlikely to exceed the best so far); :class:`EarlyStop` applies it to one training run's epoch
records (``nasfast train --early-stop``).
"""

from __future__ import annotations

from collections.abc import Sequence

from nasfast.estimate.curves.ensemble import CurveEnsemble

# Families whose fits take milliseconds: the rule refits after every epoch of every candidate.
STOP_FAMILIES = ("last_value", "pow3", "log_power", "mmf4", "ilog2", "vapor_pressure", "exp4")


class StopRule:
    """Stop a curve when ``upper(level)`` of its predicted final value is below ``incumbent``."""

    def __init__(
        self,
        min_points: int = 3,
        level: float = 0.9,
        limits: tuple[float, float] | None = None,
        families: Sequence[str] = STOP_FAMILIES,
    ) -> None:
        if isinstance(min_points, bool) or not isinstance(min_points, int) or min_points < 2:
            raise ValueError(f"min_points: expected an int >= 2, got {min_points!r}")
        if not 0.0 < level < 1.0:
            raise ValueError(f"level: expected a probability in (0, 1), got {level}")
        self.min_points, self.level = min_points, level
        self.ensemble = CurveEnsemble(families, limits=limits)

    def should_stop(
        self, x: Sequence[float], y: Sequence[float], final: float, incumbent: float | None
    ) -> tuple[bool, float | None]:
        """(stop?, predicted mean at ``final``) for the curve ``(x, y)`` so far."""
        if incumbent is None or len(x) < self.min_points or x[-1] >= final:
            return False, None
        mean, _, upper = self.ensemble.fit(x, y).predict(final, self.level).at()
        return upper < incumbent, mean


class EarlyStop:
    """Feed it a run's (epoch, value) pairs; it says when to stop.

    Args:
        epochs: the run's full length (the budget the prediction is for).
        target: stop when the prediction's optimistic end is below this (e.g. the accuracy of
            the best model so far); ``None``: below the best value seen plus ``min_delta``, i.e.
            when the rest of the run is not expected to improve on it.
        min_delta: improvement that counts when ``target`` is None.
    """

    def __init__(
        self,
        epochs: int,
        target: float | None = None,
        *,
        min_delta: float = 0.0,
        rule: StopRule | None = None,
    ) -> None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs: expected an int >= 1, got {epochs!r}")
        if min_delta < 0:
            raise ValueError(f"min_delta: expected a value >= 0, got {min_delta}")
        self.epochs, self.target, self.min_delta = epochs, target, min_delta
        self.rule = rule or StopRule()
        self.values: dict[int, float] = {}
        self.predicted: float | None = None

    def add(self, epoch: int, value: float) -> bool:
        """Record ``value`` after ``epoch`` (1-based; a repeated epoch replaces the old value);
        True when the run should stop now."""
        self.values[int(epoch)] = float(value)
        x = sorted(self.values)
        y = [self.values[e] for e in x]
        bar = self.target if self.target is not None else max(y) + self.min_delta
        stop, mean = self.rule.should_stop(x, y, self.epochs, bar)
        self.predicted = mean
        return stop
