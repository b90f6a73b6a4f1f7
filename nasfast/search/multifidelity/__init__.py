"""Multi-fidelity search: evaluate many candidates cheaply, spend the full budget on few.

>>> from nasfast.search.multifidelity import nb201_problem, make_scheduler, minimize_multifidelity
>>> res = minimize_multifidelity(nb201_problem(), make_scheduler("sh", eta=10), 20_000, seed=0)
>>> res.spent, res.best.metrics["final_acc"]          # epochs spent, 200-epoch accuracy found
"""

from __future__ import annotations

from typing import Any

from nasfast.search.multifidelity.asha import ASHA
from nasfast.search.multifidelity.base import Job, MultiFidelityResult, Scheduler, Trial
from nasfast.search.multifidelity.bohb import BOHB
from nasfast.search.multifidelity.curve_stopping import CurveStopping, StopRule
from nasfast.search.multifidelity.driver import minimize_multifidelity
from nasfast.search.multifidelity.halving import Hyperband, SuccessiveHalving
from nasfast.search.multifidelity.nb201 import NB201_FIDELITY, nb201_problem
from nasfast.search.multifidelity.problem import Fidelity, MultiFidelityProblem

SCHEDULERS: dict[str, type[Scheduler]] = {
    "sh": SuccessiveHalving,
    "hyperband": Hyperband,
    "asha": ASHA,
    "bohb": BOHB,
    "curve": CurveStopping,
}


def make_scheduler(name: str, **kwargs: Any) -> Scheduler:
    """A scheduler by name (``sh``, ``hyperband``, ``asha``, ``bohb``, ``curve``)."""
    if name not in SCHEDULERS:
        raise ValueError(f"scheduler: expected one of {', '.join(SCHEDULERS)}, got {name!r}")
    return SCHEDULERS[name](**kwargs)


__all__ = [
    "ASHA",
    "BOHB",
    "NB201_FIDELITY",
    "SCHEDULERS",
    "CurveStopping",
    "Fidelity",
    "Hyperband",
    "Job",
    "MultiFidelityProblem",
    "MultiFidelityResult",
    "Scheduler",
    "StopRule",
    "SuccessiveHalving",
    "Trial",
    "make_scheduler",
    "minimize_multifidelity",
    "nb201_problem",
]
