"""The Ray executor on a local cluster started (and stopped) here, on 127.0.0.1."""

from __future__ import annotations

import os
import sys

import pytest
from executor_helpers import Faulty, SimulatedWorkers, descendants, problem, wait_gone

from nasfast.search import make_strategy, minimize

# `make pytest` runs this file with NASFAST_REQUIRE_RAY=1: there a missing ray or a namespace
# with another interface fails the run instead of skipping it.
REQUIRED = os.environ.get("NASFAST_REQUIRE_RAY") == "1"


def _loopback_only() -> bool:
    """Whether this process's network namespace has no interface but ``lo``."""
    with open("/proc/net/dev") as f:
        names = [line.split(":")[0].strip() for line in f.readlines()[2:]]
    return names == ["lo"]


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"NASFAST_REQUIRE_RAY=1 but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    import ray
except ImportError:
    _unavailable("the ray extra is not installed")

# Ray 2.60 binds its servers to the machine's address even when started on 127.0.0.1, so these
# tests run only where no other interface exists: `make pytest` runs this file under
# `unshare -rn` (a network namespace holding only the loopback interface).
if not _loopback_only():
    _unavailable("Ray listens beyond 127.0.0.1: run under `unshare -rn` (make pytest)")

REA = {"population_size": 6, "sample_size": 3}


@pytest.fixture(scope="session")
def ray_executor():
    from nasfast.search.executors.ray_executor import RayExecutor, start_local_ray

    before = descendants()
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join([here, *sys.path[:1], path])  # for the workers
    start_local_ray(num_cpus=2)
    ex = RayExecutor(2)
    yield ex
    ex.close()
    started = descendants() - before
    ray.shutdown()
    os.environ["PYTHONPATH"] = path
    assert wait_gone(started) == set()


def history(result):
    return [(e.candidate, e.metrics["score"]) for e in result.history]


def test_ray_gives_the_deterministic_result(ray_executor):
    result = minimize(problem(), make_strategy("rea", **REA), 14, 2, executor=ray_executor)
    expected = minimize(problem(), make_strategy("rea", **REA), 14, 2, executor=SimulatedWorkers(2))
    assert history(result) == history(expected)


def test_a_killed_actor_loses_no_candidate(ray_executor, tmp_path):
    first = [e.candidate for e in minimize(problem(), make_strategy("random"), 3, seed=0).history]
    objective = Faulty(str(tmp_path), die_once=(first[1],))  # kills its actor's process once
    result = minimize(problem(objective), make_strategy("random"), 6, 0, executor=ray_executor)
    plain = minimize(problem(), make_strategy("random"), 6, seed=0)
    assert [e.candidate for e in result.history] == [e.candidate for e in plain.history]
    assert result.failures == [] and len(list(tmp_path.iterdir())) == 1
