"""Search strategies over discrete spaces (ask/tell, or ``minimize``).

>>> from nasfast.search import Problem, minimize, make_strategy
>>> from nasfast.tabular import NB201Benchmark
>>> bench = NB201Benchmark("cifar10")                      # 12-epoch validation accuracy
>>> problem = Problem.from_benchmark(bench)
>>> result = minimize(problem, make_strategy("rea"), budget=200, seed=0)
>>> result.best.metrics["final_acc"]                        # 200-epoch accuracy, reported
"""

from __future__ import annotations

from typing import Any

from nasfast.search.bananas import Bananas
from nasfast.search.base import Evaluation, SearchResult, Strategy
from nasfast.search.bo import BayesianOptimization
from nasfast.search.evolution import RegularizedEvolution
from nasfast.search.local_search import LocalSearch
from nasfast.search.loop import check_budget, minimize
from nasfast.search.naswot import NASWOT
from nasfast.search.nsga2 import NSGA2
from nasfast.search.problem import Objective, Problem
from nasfast.search.random_search import RandomSearch
from nasfast.search.reinforce import Reinforce
from nasfast.search.scalarization import Scalarization

STRATEGIES: dict[str, type[Strategy]] = {
    "random": RandomSearch,
    "rea": RegularizedEvolution,
    "reinforce": Reinforce,
    "bo": BayesianOptimization,
    "local": LocalSearch,
    "nsga2": NSGA2,
    "bananas": Bananas,
    "naswot": NASWOT,
}


def make_strategy(name: str, **kwargs: Any) -> Strategy:
    """A strategy by name: ``random``, ``rea``, ``reinforce``, ``bo``, ``local``, ``nsga2``,
    ``bananas`` (predictor-guided), ``naswot`` (training-free, proxy-ranked)."""
    if name not in STRATEGIES:
        raise ValueError(f"strategy: expected one of {', '.join(STRATEGIES)}, got {name!r}")
    return STRATEGIES[name](**kwargs)


__all__ = [
    "NSGA2",
    "STRATEGIES",
    "BayesianOptimization",
    "Evaluation",
    "LocalSearch",
    "Objective",
    "Problem",
    "RandomSearch",
    "RegularizedEvolution",
    "Reinforce",
    "Scalarization",
    "SearchResult",
    "Strategy",
    "check_budget",
    "make_strategy",
    "minimize",
]
