"""BANANAS and NASWOT-style search: through minimize, on any discrete space, and from the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasfast.estimate.predictors import make_predictor
from nasfast.search import NASWOT, Bananas, Problem, make_strategy, minimize
from nasfast.spaces import DiscreteSpace, NB201Space
from nasfast.tabular import NB201Benchmark
from nasfast.tabular.nb201 import NB201Table

TARGET = (2, 0, 1, 2, 1)
FAST_MLP = {"n_initial": 10, "predictor_kwargs": {"epochs": 60, "hidden": 16}}
FAST_RF = {"n_initial": 10, "predictor": "rf", "predictor_kwargs": {"n_estimators": 20}}


def _synthetic(batched: bool = False):
    space = DiscreteSpace([3] * 5)
    calls: list[int] = []

    def score(c):
        return {"score": -sum(a != b for a, b in zip(c, TARGET, strict=True)) + 0.01 * c[0]}

    def objective(cands):
        calls.append(len(cands))
        return [score(c) for c in cands]

    return Problem(space, objective, ["max:score"], batched=True), calls


@pytest.mark.parametrize(
    "kwargs",
    [FAST_MLP, {**FAST_RF, "acquisition": "ucb"}],
)
def test_bananas_finds_the_optimum_of_a_discrete_space(kwargs):
    problem, calls = _synthetic()
    res = minimize(problem, Bananas(**kwargs), budget=40, seed=0)  # space: 243 candidates
    assert res.best.candidate == TARGET
    assert len({e.candidate for e in res.history}) == res.n_evals == 40
    assert calls[0] == 10 and set(calls[1:]) == {5}  # random start, then batches of 5


def test_bananas_beats_random_on_nb201_with_few_evaluations():
    bench = NB201Benchmark("cifar10", fidelity=200)

    def best(strategy, seed):
        return minimize(Problem.from_benchmark(bench), strategy, 40, seed=seed).best.metrics[
            "accuracy"
        ]

    bananas = [
        best(Bananas(predictor="rf", predictor_kwargs={"n_estimators": 30}), s) for s in (0, 1)
    ]
    rand = [best(make_strategy("random"), s) for s in (0, 1)]
    assert np.mean(bananas) > np.mean(rand)


def test_bananas_seeds_reproduce():
    problem, _ = _synthetic()

    def run(seed):
        return [e.candidate for e in minimize(problem, Bananas(**FAST_RF), 25, seed=seed).history]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_bananas_resume_after_kill_gives_same_result(tmp_path):
    ckpt = tmp_path / "run.json"
    problem, calls = _synthetic()
    full = minimize(problem, Bananas(**FAST_MLP), 25, seed=3)

    class Killed(Exception):
        pass

    def kill(result):
        if result.n_evals >= 15:
            raise Killed

    with pytest.raises(Killed):
        minimize(problem, Bananas(**FAST_MLP), 25, seed=3, checkpoint=ckpt, callback=kill)
    calls.clear()
    resumed = minimize(problem, Bananas(**FAST_MLP), 25, seed=3, checkpoint=ckpt)
    assert [e.candidate for e in resumed.history] == [e.candidate for e in full.history]
    assert sum(calls) == 25 - 15


def test_bananas_takes_a_predictor_factory_and_features():
    problem, _ = _synthetic()
    seen_spaces = []

    def factory(space):
        seen_spaces.append(space)
        return make_predictor("rf", space, features=lambda cs: [c[0] for c in cs], n_estimators=20)

    res = minimize(problem, Bananas(predictor=factory), 20, seed=0)
    assert seen_spaces == [problem.space] and res.n_evals == 20


def test_bananas_candidates_are_unseen_mutations_of_the_best_plus_random_samples():
    problem, _ = _synthetic()
    strat = Bananas(n_parents=1, n_candidates=30, max_mutations=1, n_random=0)
    strat.setup(problem, seed=0)
    told = strat.ask()
    strat.tell(told, problem.evaluate(told))
    best = max(told, key=lambda c: strat.fitness[c])
    local = strat._candidates()
    assert local and all(sum(a != b for a, b in zip(c, best)) == 1 for c in local)
    assert not set(local) & strat.seen
    strat.n_random = 40
    mixed = strat._candidates()
    assert any(sum(a != b for a, b in zip(c, best)) > 1 for c in mixed)


def test_bananas_argument_errors():
    problem, _ = _synthetic()
    with pytest.raises(ValueError, match="predictor: expected one of"):
        Bananas(predictor="svm")
    with pytest.raises(ValueError, match="acquisition: expected one of"):
        Bananas(acquisition="ei")
    with pytest.raises(ValueError, match="n_initial: expected an int >= 2"):
        Bananas(n_initial=1)
    with pytest.raises(ValueError, match="n_random: expected an int >= 0"):
        Bananas(n_random=-1)
    with pytest.raises(ValueError, match="acquisition: 'its' needs a predictor with uncertainty"):
        minimize(problem, Bananas(predictor="lgb"), 20, seed=0)
    with pytest.raises(ValueError, match="factory returned"):
        minimize(problem, Bananas(predictor=lambda s: "model"), 20, seed=0)
    with pytest.raises(ValueError, match="encoding"):
        minimize(problem, Bananas(encoding="path"), 20, seed=0)  # path is an NB201 encoding
    with pytest.raises(ValueError, match="features: the only named features"):
        minimize(problem, Bananas(features="zc"), 20, seed=0)


def test_naswot_evaluates_in_proxy_order():
    problem, calls = _synthetic()

    def proxy(cands):
        return [-sum(a != b for a, b in zip(c, TARGET, strict=True)) - 0.001 * c[1] for c in cands]

    res = minimize(problem, NASWOT(proxy, n_samples=100, batch_size=4, top_k=10), 50, seed=0)
    scores = proxy([e.candidate for e in res.history])
    assert res.n_evals == 10 and res.stopped == "exhausted"
    assert scores == sorted(scores, reverse=True) and calls == [4, 4, 2]
    again = minimize(_synthetic()[0], NASWOT(proxy, n_samples=100, top_k=10), 50, seed=0)
    assert [e.candidate for e in again.history] == [e.candidate for e in res.history]


def test_naswot_named_proxy_on_nb201_reads_the_table():
    bench = NB201Benchmark("cifar10")
    res = minimize(
        Problem.from_benchmark(bench), NASWOT("params", n_samples=200, batch_size=5), 20, seed=1
    )
    table = NB201Table.load()
    params = table.columns["params_M_c10"][[e.metrics["index"] for e in res.history]]
    assert np.all(np.diff(params) <= 0)
    sampled = NASWOT("params", n_samples=200)
    sampled.setup(Problem.from_benchmark(bench), seed=1)
    assert params[0] == max(table.columns["params_M_c10"][table.indices_of(sampled.queue)])


def test_naswot_errors():
    problem, _ = _synthetic()
    with pytest.raises(ValueError, match="proxy: expected a callable scoring candidates"):
        minimize(problem, NASWOT(), 10, seed=0)
    with pytest.raises(ValueError, match="proxy: expected 50 finite scores"):
        minimize(problem, NASWOT(lambda cs: [1.0], n_samples=50), 10, seed=0)
    with pytest.raises(ValueError, match="with NaN"):
        minimize(problem, NASWOT(lambda cs: [np.nan] * len(cs), n_samples=50), 10, seed=0)
    with pytest.raises(ValueError, match="top_k: expected an int >= 1"):
        NASWOT(top_k=0)
    with pytest.raises(ValueError, match="proxies"):
        minimize(Problem.from_benchmark(NB201Benchmark()), NASWOT("synflow"), 10, seed=0)


def _cli(argv, capsys):
    from nasfast.cli.main import main

    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize(
    "extra",
    [
        ["bananas", "--predictor", "rf", "--initial", "10", "--batch-size", "5"],
        ["bananas", "--features", "zc", "--predictor", "rf", "--encoding", "onehot"],
        ["naswot", "--proxy", "zen", "--samples", "300"],
    ],
)
def test_cli_search(extra, tmp_path, capsys):
    argv = ["search", *extra, "--benchmark", "nb201", "--budget", "20", "--seed", "0"]
    rc, out, _ = _cli([*argv, "--no-plots", "--out", str(tmp_path)], capsys)
    assert rc == 0 and "200-epoch accuracy of the best found" in out
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["strategy"] == extra[0] and len(data["runs"][0]["history"]) == 20


@pytest.mark.parametrize(
    "extra, match",
    [
        (["bananas", "--predictor", "svm"], "predictor: expected one of"),
        (["bananas", "--initial", "1"], "--initial: expected an integer >= 2"),
        (["bananas", "--features", "all"], "--features: expected none or zc"),
        (["naswot", "--proxy", "synflow"], "proxies"),
        (["naswot", "--top-k", "x"], "--top-k: expected an integer"),
    ],
)
def test_cli_errors_are_one_line(extra, match, tmp_path, capsys):
    argv = ["search", *extra, "--budget", "20", "--no-plots", "--out", str(tmp_path)]
    rc, _, err = _cli(argv, capsys)
    assert rc == 2 and match in err and len(err.strip().splitlines()) == 1


def test_strategies_are_registered():
    assert isinstance(make_strategy("bananas"), Bananas)
    assert isinstance(make_strategy("naswot", proxy="zen"), NASWOT)
    assert NB201Space  # the named proxies belong to this space


class _SymmetricSpace(DiscreteSpace):
    """Candidates equal up to the order of their positions are one class."""

    def canonical(self, c):
        return tuple(sorted(int(v) for v in c))


def test_equivalent_candidates_count_once():
    space = _SymmetricSpace([4] * 4)
    problem = Problem(space, lambda cs: [{"s": float(sum(c))} for c in cs], ["max:s"], batched=True)
    naswot = NASWOT(lambda cs: [sum(c) for c in cs], n_samples=200)
    naswot.setup(problem, seed=0)
    keys = [space.canonical(c) for c in naswot.queue]
    assert len(keys) == len(set(keys))
    strat = Bananas(**FAST_RF, n_candidates=50)
    strat.setup(problem, seed=0)
    told = strat.ask()
    strat.tell(told, problem.evaluate(told))
    cands = strat._candidates()
    keys = [space.canonical(c) for c in cands]
    assert len(keys) == len(set(keys)) and not set(keys) & strat.seen
