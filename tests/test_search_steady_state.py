"""minimize over an executor, with simulated workers (no processes): steady state, determinism,
generations in parallel, lost workers, failures, resume."""

from __future__ import annotations

import pytest
from executor_helpers import Faulty, SimulatedWorkers, problem

from nasfast.search import make_strategy, minimize
from nasfast.search.executors import InProcess, make_executor

STEADY = {
    "random": {},
    "rea": {"population_size": 6, "sample_size": 3},
    "local": {},
    "reinforce": {"batch_size": 4},  # one policy step per batch: a batch runs in parallel
}


def trace(result):
    return [(e.candidate, e.metrics["score"]) for e in result.history], [
        (f.candidate, f.error) for f in result.failures
    ]


def run(name, executor=None, budget=30, seed=0, objective=None, **kw):
    p = problem() if objective is None else problem(objective)
    return minimize(
        p, make_strategy(name, **STEADY.get(name, {})), budget, seed, executor=executor, **kw
    )


@pytest.mark.parametrize("name", sorted(STEADY))
def test_one_worker_is_the_in_process_run(name):
    assert trace(run(name, SimulatedWorkers(1))) == trace(run(name))


@pytest.mark.parametrize("name", ["rea", "local"])
def test_same_seed_and_workers_same_result_whatever_the_timing(name):
    runs = [SimulatedWorkers(3, seed=s) for s in range(3)]
    traces = [trace(run(name, ex, seed=1)) for ex in runs]
    assert traces[0] == traces[1] == traces[2]
    assert all(ex.max_running == 3 for ex in runs)  # every worker busy
    assert len(traces[0][0]) == 30


def test_random_search_is_independent_of_the_worker_count():
    assert trace(run("random", SimulatedWorkers(4, seed=2))) == trace(run("random"))


@pytest.mark.parametrize("name", ["nsga2", "reinforce"])
def test_generations_evaluate_in_parallel_with_the_in_process_result(name):
    ex = SimulatedWorkers(4, seed=3)
    assert trace(run(name, ex, budget=24)) == trace(run(name, budget=24))
    assert ex.max_running == 4


def test_completed_order_tells_results_as_they_arrive():
    result = run("rea", SimulatedWorkers(3, seed=4), order="completed")
    assert len(result.history) == 30
    assert len({e.candidate for e in result.history}) == 30
    assert [e.step for e in result.history] == list(range(1, 31))


def test_a_lost_worker_retries_its_candidate_then_records_a_failure():
    first = run("random", budget=3).history
    a, b = first[0].candidate, first[1].candidate
    result = run("random", SimulatedWorkers(2, lose={a: 99, b: 2}), budget=10)
    assert b in [e.candidate for e in result.history]  # lost twice, third attempt answered
    [failed] = result.failures
    assert failed.candidate == a and failed.error.startswith("WorkerLost")
    assert "3 attempts" in failed.error  # max_retries=2: the first try and two retries
    assert len(result.history) == 9


def test_an_objective_that_raises_is_recorded_and_the_run_goes_on():
    c = run("rea", budget=2).history[1].candidate
    result = run("rea", SimulatedWorkers(2), objective=Faulty(raise_on=(c,)))
    assert [f.candidate for f in result.failures] == [c]
    assert "RuntimeError: cannot evaluate" in result.failures[0].error
    assert len(result.history) == 29 and result.stopped == "budget"


def test_max_failures_stops_the_steady_state_run():
    with pytest.warns(UserWarning, match="max_failures"):
        result = run(
            "random",
            SimulatedWorkers(2, lose={}),
            objective=Faulty(raise_on=_all()),
            max_failures=3,
        )
    assert result.stopped == "failures" and len(result.failures) >= 4


def _all():
    from itertools import product

    return tuple(product(range(3), repeat=5))


class Stop(Exception):
    pass


def test_a_killed_steady_state_run_resumes_to_the_uninterrupted_result(tmp_path):
    whole = trace(run("rea", SimulatedWorkers(3)))

    def stop(result):
        if len(result.history) >= 12:
            raise Stop

    calls = tmp_path / "calls"
    logged = Faulty(log=str(calls))
    ckpt = tmp_path / "c.json"
    with pytest.raises(Stop):
        run("rea", SimulatedWorkers(3, seed=5), objective=logged, checkpoint=ckpt, callback=stop)
    before = len(calls.read_text().splitlines())
    resumed = run("rea", SimulatedWorkers(3, seed=6), objective=logged, checkpoint=ckpt)
    assert trace(resumed) == whole
    # the 12 finished ones were not run again; those in flight were
    assert len(calls.read_text().splitlines()) - before == 30 - 12


def test_in_process_executor_is_the_default_path():
    assert trace(run("rea", InProcess())) == trace(run("rea"))
    assert isinstance(make_executor(1), InProcess)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"order": "random"}, "order: expected 'submitted' or 'completed'"),
        ({"max_retries": -1}, "max_retries: expected an int >= 0"),
    ],
)
def test_bad_arguments_are_one_line_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        run("random", SimulatedWorkers(2), **kw)


@pytest.mark.parametrize("workers", [0, -2, 1.5, True])
def test_bad_worker_counts_are_refused(workers):
    with pytest.raises(ValueError, match="workers: expected an int >= 1"):
        make_executor(workers)
