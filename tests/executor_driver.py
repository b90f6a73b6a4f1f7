"""A search driver run as its own process (killed and restarted by the tests):
``python executor_driver.py CHECKPOINT WORKDIR OUT.json``."""

from __future__ import annotations

import json
import sys

from executor_helpers import Faulty, problem

from nasfast.search import make_strategy, minimize
from nasfast.search.executors import ProcessPool

BUDGET = 14
REA = {"population_size": 6, "sample_size": 3}


def objective(workdir: str) -> Faulty:
    return Faulty(log=f"{workdir}/log", sleep=0.25, pids=f"{workdir}/pids")


def main() -> None:
    checkpoint, workdir, out = sys.argv[1:4]
    with ProcessPool(2) as pool:
        result = minimize(
            problem(objective(workdir)),
            make_strategy("rea", **REA),
            BUDGET,
            seed=7,
            executor=pool,
            checkpoint=checkpoint,
        )
    trace = [[list(e.candidate), e.metrics["score"]] for e in result.history]
    with open(out, "w") as f:
        json.dump(trace, f)


if __name__ == "__main__":
    main()
