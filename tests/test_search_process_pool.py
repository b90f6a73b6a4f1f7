"""The process pool with real spawned workers: results, workers killed, no process left."""

from __future__ import annotations

import os
import signal
import time

import pytest
from executor_helpers import Faulty, SimulatedWorkers, descendants, problem, wait_gone

from nasfast.search import make_strategy, minimize
from nasfast.search.executors import ProcessPool, WorkerLost

REA = {"population_size": 6, "sample_size": 3}


@pytest.fixture(scope="module")
def pool():
    before = descendants()
    ex = ProcessPool(2)
    yield ex
    ex.close()
    assert wait_gone(descendants() - before) == set()


def history(result):
    return [(e.candidate, e.metrics["score"]) for e in result.history]


def test_real_workers_give_the_deterministic_result(pool):
    rea = make_strategy("rea", **REA)
    result = minimize(problem(), rea, 16, seed=3, executor=pool)
    expected = minimize(problem(), make_strategy("rea", **REA), 16, 3, executor=SimulatedWorkers(2))
    assert history(result) == history(expected)


def test_killed_workers_lose_no_candidate_and_raising_ones_are_recorded(pool, tmp_path):
    first = [e.candidate for e in minimize(problem(), make_strategy("random"), 4, seed=0).history]
    dies, dies_once, raises = first[0], first[1], first[3]
    log = tmp_path / "log"
    objective = Faulty(str(tmp_path), die=(dies,), die_once=(dies_once,), raise_on=(raises,))
    objective.log = str(log)
    result = minimize(
        problem(objective), make_strategy("random"), 8, seed=0, executor=pool, max_retries=1
    )
    assert dies_once in [e.candidate for e in result.history]
    errors = {f.candidate: f.error for f in result.failures}
    assert set(errors) == {dies, raises}
    assert errors[dies] == "WorkerLost: worker process died (2 attempts)"
    assert errors[raises].startswith("RuntimeError")
    tried = log.read_text().splitlines()
    assert tried.count(",".join(map(str, dies))) == 2
    assert len(result.history) == 6 and result.stopped == "budget"


@pytest.mark.slow
def test_a_generation_survives_a_killed_worker(pool, tmp_path):
    strategy = make_strategy("nsga2", pop_size=6)
    plain = minimize(problem(), make_strategy("nsga2", pop_size=6), 12, seed=1)
    victim = plain.history[2].candidate
    objective = Faulty(str(tmp_path), die_once=(victim,))
    result = minimize(problem(objective), strategy, 12, seed=1, executor=pool)
    assert history(result) == history(plain)


@pytest.mark.slow
def test_a_worker_killed_from_outside_is_replaced(pool):
    pool.bind(problem(Faulty(sleep=30.0)))
    task = pool.submit((0, 0, 0, 0, 0))
    victim = pool.pids()[task.slot]
    time.sleep(0.5)
    os.kill(victim, signal.SIGKILL)
    [done] = pool.wait([task])
    with pytest.raises(WorkerLost):
        pool.outcome(done)
    assert victim not in pool.pids()
    pool.bind(problem())
    again = pool.submit((2, 0, 1, 2, 1))
    assert pool.outcome(pool.wait([again])[0]) == {"score": 0.02}
