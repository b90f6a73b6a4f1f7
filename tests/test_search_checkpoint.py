"""A checkpoint belongs to one run: another problem, benchmark or setting is refused."""

from __future__ import annotations

import json

import pytest

from nasfast.search import Problem, make_strategy, minimize
from nasfast.spaces import DiscreteSpace
from nasfast.tabular import NB201Benchmark


def test_a_checkpoint_of_another_nb201_dataset_is_refused(tmp_path):
    ckpt = tmp_path / "x.json"
    c10 = Problem.from_benchmark(NB201Benchmark("cifar10"))
    minimize(c10, make_strategy("rea"), 30, seed=0, checkpoint=ckpt)
    c100 = Problem.from_benchmark(NB201Benchmark("cifar100"))
    with pytest.raises(ValueError, match=r"^checkpoint: .*x.json was made for another run: "
                       r"problem.objective.columns") as e:  # fmt: skip
        minimize(c100, make_strategy("rea"), 30, seed=0, checkpoint=ckpt)
    assert "\n" not in str(e.value) and "acc12_cifar10_val" in str(e.value)
    fresh = minimize(c100, make_strategy("rea"), 30, seed=0)
    assert fresh.best.metrics["final_acc"] < 75  # a cifar100 number, not cifar10's 90s


@pytest.mark.parametrize(
    "change",
    [
        {"objectives": ["min:y"]},
        {"constraint": lambda c: c[0] < 2},
        {"strategy": {"population_size": 6, "sample_size": 2}},
        {"fn": lambda c: {"y": float(c[0])}},
    ],
)
def test_any_other_problem_or_setting_is_refused(tmp_path, change):
    ckpt = tmp_path / "run.json"

    def build(change):
        space = DiscreteSpace([3, 3], constraints=change.get("constraint", lambda c: c[0] < 3))
        fn = change.get("fn", lambda c: {"y": float(sum(c))})
        problem = Problem(space, fn, change.get("objectives", ["max:y"]))
        strategy = make_strategy(
            "rea", **change.get("strategy", {"population_size": 4, "sample_size": 2})
        )
        return problem, strategy

    minimize(*build({}), 5, seed=0, checkpoint=ckpt)
    minimize(*build({}), 6, seed=0, checkpoint=ckpt)  # the same run resumes
    with pytest.raises(ValueError, match=r"^checkpoint: .* was made for another run"):
        minimize(*build(change), 6, seed=0, checkpoint=ckpt)


def test_an_unreadable_checkpoint_names_the_file(tmp_path):
    ckpt = tmp_path / "torn.json"
    ckpt.write_text('{"history": [')
    prob = Problem(DiscreteSpace([3]), lambda c: {"y": 1.0}, ["max:y"])
    with pytest.raises(ValueError, match=r"^checkpoint: .*torn.json is not valid JSON"):
        minimize(prob, make_strategy("random"), 2, seed=0, checkpoint=ckpt)


def test_failures_are_checkpointed_and_replayed(tmp_path):
    ckpt = tmp_path / "run.json"
    calls = []

    def f(c):
        calls.append(c)
        if c[0] == 0:
            raise RuntimeError("diverged")
        return {"y": float(sum(c))}

    prob = Problem(DiscreteSpace([3, 3]), f, ["max:y"])
    first = minimize(prob, make_strategy("random"), 9, seed=0, checkpoint=ckpt)
    assert len(json.loads(ckpt.read_text())["failures"]) == len(first.failures) == 3
    calls.clear()
    again = minimize(prob, make_strategy("random"), 9, seed=0, checkpoint=ckpt)
    assert not calls and [f.error for f in again.failures] == ["RuntimeError: diverged"] * 3
