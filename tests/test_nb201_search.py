"""NAS-Bench-201 space and table, the generic discrete space, the search strategies, the CLI."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from nasfast.search import (
    STRATEGIES,
    Problem,
    Scalarisation,
    make_strategy,
    minimize,
)
from nasfast.search.front import pareto_front
from nasfast.spaces import (
    OPS,
    DiscreteSpace,
    NB201Space,
    arch_str_to_ops,
    index_of,
    ops_of_index,
    ops_to_arch_str,
)
from nasfast.tabular import NB201Benchmark, NB201Table


@pytest.fixture(scope="module")
def table() -> NB201Table:
    return NB201Table.load()


# ------------------------------------------------------------------ NB201 encodings and table
def test_encodings_round_trip_all_cells(table):
    space = NB201Space()
    seen = set()
    for i in range(15625):
        ops = ops_of_index(i)
        arch = ops_to_arch_str(ops)
        assert arch == table.arch_strs[i]
        assert arch_str_to_ops(arch) == ops
        assert index_of(arch) == i and index_of(ops) == i
        assert space.parse(arch) == ops and space.parse("".join(map(str, ops))) == ops
        seen.add(ops)
    assert len(seen) == 15625 == space.size
    assert set(itertools.product(range(5), repeat=6)) == seen


def test_arch_string_format():
    ops = (3, 3, 4, 1, 3, 1)
    assert ops_to_arch_str(ops) == (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
        "skip_connect~2|"
    )
    assert OPS[0] == "none" and OPS[4] == "avg_pool_3x3"


@pytest.mark.parametrize(
    "bad",
    [
        "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|none~1|",
        "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|+|none~0|none~1|none~2|",
    ],
)
def test_bad_arch_strings(bad):
    with pytest.raises(ValueError, match="^arch: "):
        arch_str_to_ops(bad)


def test_bad_ops_and_index():
    with pytest.raises(ValueError, match="^ops: "):
        ops_to_arch_str([0, 1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="^ops: "):
        ops_to_arch_str([0, 1, 2])
    with pytest.raises(ValueError, match="^index: "):
        ops_of_index(15625)


def test_table_metrics_and_errors(table):
    assert table.resolve("accuracy", "cifar10", 12).column == "acc12_cifar10_val"
    assert table.resolve("accuracy", "cifar100", 200).column == "acc200_val_c100"
    assert table.resolve("latency:raspi4").column == "lat_ms_raspi4"
    assert not table.resolve("params", "imagenet16").maximize
    assert table.best("acc200_val_c10valid") == (1459, 91.57)
    for metric, dataset, fid, match in [
        ("acuracy", "cifar10", 12, "^metric: "),
        ("latency:raspi5", "cifar10", 12, "^device: "),
        ("latency", "cifar10", 12, "^device: "),
        ("accuracy", "mnist", 12, "^dataset: "),
        ("accuracy", "cifar10", 50, "^fidelity: "),
    ]:
        with pytest.raises(ValueError, match=match) as e:
            table.resolve(metric, dataset, fid)
        assert "\n" not in str(e.value)


def test_benchmark_queries_and_protocol(table):
    bench = NB201Benchmark("cifar10")  # 12-epoch validation accuracy
    out = bench([(3, 3, 4, 1, 3, 1), ops_of_index(0)])
    assert bench.n_queries == 2
    i = index_of((3, 3, 4, 1, 3, 1))
    assert out[0]["accuracy"] == table.columns["acc12_cifar10_val"][i]
    assert out[0]["final_acc"] == table.columns["acc200_val_c10valid"][i]
    assert out[1]["index"] == 0
    # the best is chosen by the 12-epoch accuracy, the reported number is its 200-epoch accuracy
    res = minimize(bench.problem(), make_strategy("rea"), 60, seed=3)
    best = max(res.history, key=lambda e: e.metrics["accuracy"])
    assert res.best is best
    assert (
        res.best.metrics["final_acc"] == table.columns["acc200_val_c10valid"][best.metrics["index"]]
    )


def test_benchmark_exact_front_and_scoring():
    bench = NB201Benchmark("cifar10", ["accuracy", "latency:raspi4"], fidelity=200)
    front = bench.exact_front()
    N = bench.normalised_matrix()
    assert N.min() == 0.0 and N.max() == 1.0
    # brute force: no row dominates a front row
    for i in front[:10]:
        assert not ((N <= N[i]).all(axis=1) & (N < N[i]).any(axis=1)).any()
    ref = bench.reference_point({"accuracy": 85.0})
    s = bench.score_front(front, ref)
    assert s["hv_ratio"] == pytest.approx(1.0) and s["pareto_share"] == 1.0
    s = bench.score_front(front[:5], ref)
    assert s["hv_ratio"] < 1.0 and s["pareto_found"] == 5


# ------------------------------------------------------------------ the generic discrete space
def test_discrete_space_basics():
    space = DiscreteSpace([3, ["a", "b"], 4], constraints=lambda c: c[0] != 2 or c[2] != 3)
    assert space.size == 24
    valid = list(space.enumerate())
    assert len(valid) == 22 and all(space.is_valid(c) for c in valid)
    for idx in range(space.size):
        assert space.index(space.from_index(idx)) == idx
    rng = np.random.default_rng(0)
    for c in space.sample(rng, 200):
        assert space.is_valid(c)
        m = space.mutate(c, rng)
        assert space.is_valid(m) and sum(a != b for a, b in zip(c, m, strict=True)) == 1
    assert all(space.is_valid(n) for n in space.neighbours((2, 0, 2)))
    assert (2, 0, 3) not in space.neighbours((2, 0, 2))
    assert space.values((1, 1, 0)) == (1, "b", 0)
    X = space.one_hot([(0, 1, 3)])
    assert X.shape == (1, 9) and X.sum() == 3
    with pytest.raises(ValueError, match="^candidate: "):
        space.validate((2, 0, 3))
    with pytest.raises(ValueError, match="^choices: "):
        DiscreteSpace([3, 0])


# ------------------------------------------------------------------ strategies on a known optimum
TARGET = (2, 0, 1, 2, 1)


def _synthetic(batched: bool = False):
    space = DiscreteSpace([3] * 5)
    calls = []

    def score(c):
        return {"score": -sum(a != b for a, b in zip(c, TARGET, strict=True)) + 0.01 * c[0]}

    if batched:

        def objective(cands):
            calls.append(len(cands))
            return [score(c) for c in cands]

    else:
        objective = score
    return Problem(space, objective, ["score"], batched=batched), calls


@pytest.mark.parametrize("name", ["rea", "reinforce", "bo", "local", "nsga2"])
def test_strategy_finds_known_optimum(name):
    problem, _ = _synthetic()
    res = minimize(problem, make_strategy(name), budget=120, seed=0)  # space: 243 candidates
    assert res.best.candidate == TARGET
    assert res.n_evals <= 120
    assert len({e.candidate for e in res.history}) == res.n_evals  # no evaluation spent twice


def test_random_search_covers_space_without_repeats():
    problem, _ = _synthetic()
    res = minimize(problem, make_strategy("random"), budget=243, seed=0)
    assert res.n_evals == 243 and res.best.candidate == TARGET


# bananas and naswot: in test_search_bananas.py (small predictors; naswot needs a proxy here)
@pytest.mark.parametrize("name", sorted(set(STRATEGIES) - {"bananas", "naswot"}))
def test_seeds_reproduce(name):
    problem, _ = _synthetic()

    def run(seed):
        return [e.candidate for e in minimize(problem, make_strategy(name), 40, seed=seed).history]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_batched_objective_gets_whole_generations():
    problem, calls = _synthetic(batched=True)
    res = minimize(problem, make_strategy("nsga2", pop_size=20), budget=60, seed=0)
    assert res.n_evals == 60 and calls[0] == 20 and sum(calls) == 60
    problem, calls = _synthetic(batched=True)
    minimize(problem, make_strategy("rea", population_size=10, batch_size=5), 40, seed=0)
    assert calls[0] == 10 and max(calls[1:]) <= 5


A = np.array([1.0, 2.0, 3.5, 4.5, 6.0, 7.5])
B = np.array([7.0, 5.5, 4.0, 3.0, 2.5, 1.0])


def _two_objective():
    space = DiscreteSpace([3] * 6)

    def f(c):
        x = np.array(c, dtype=float)
        return {"cost": float(A @ x), "error": float(B @ (2 - x) ** 2)}

    problem = Problem(space, f, [("cost", "min"), ("error", "min")], bounds=[(0, 49), (0, 92)])
    allc = list(space.enumerate())
    F = problem.F([f(c) for c in allc])
    exact = {allc[i] for i in pareto_front(F)}
    return problem, exact, allc


def test_nsga2_finds_exact_front_of_synthetic_problem():
    problem, exact, _ = _two_objective()
    res = minimize(problem, make_strategy("nsga2", pop_size=40), budget=400, seed=0)
    found = {e.candidate for e in res.front()}
    F = problem.F([e.metrics for e in res.front()])
    assert len(pareto_front(F)) == len(F)
    assert len(found & exact) >= 0.9 * len(exact), (len(found & exact), len(exact))


@pytest.mark.parametrize("kind", ["weighted", "chebyshev", "epsilon"])
def test_scalarisations_find_their_optimum(kind):
    problem, exact, allc = _two_objective()
    scal = Scalarisation(kind, [0.3, 0.7], primary="error", eps={"cost": 20.0})
    problem.scalarisation = scal
    scal.bind(problem)
    scores = problem.fitness([problem.objective(c) for c in allc])
    optimum = allc[int(np.argmax(scores))]
    assert optimum in exact
    res = minimize(problem, make_strategy("rea"), budget=300, seed=1)
    assert res.best.candidate == optimum
    if kind == "epsilon":
        assert res.best.metrics["cost"] <= 20.0


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("budget", [0, -3, 2.5, "10", True, 10**6])
def test_bad_budgets(budget):
    problem, _ = _synthetic()
    with pytest.raises(ValueError, match="^budget: ") as e:
        minimize(problem, make_strategy("rea"), budget=budget)
    assert "\n" not in str(e.value)


def test_single_objective_strategy_needs_scalarisation():
    problem, _, _ = _two_objective()
    with pytest.raises(ValueError, match="^objectives: .*single-objective"):
        minimize(problem, make_strategy("rea"), budget=10)
    with pytest.raises(ValueError, match="^strategy: "):
        make_strategy("annealing")
    with pytest.raises(ValueError, match="^objectives: "):
        Problem(DiscreteSpace([2]), lambda c: {"a": 1.0}, ["b"]).evaluate([(0,)])
    with pytest.raises(ValueError, match="^scalarisation: "):
        Scalarisation("lexicographic")


# ------------------------------------------------------------------ CLI end to end
def _cli(argv, capsys):
    from nasfast.cli.main import main

    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_search_single_objective(tmp_path, capsys):
    rc, out, _ = _cli(
        [
            "search",
            "rea",
            "--benchmark",
            "nb201",
            "--budget",
            "30",
            "--seeds",
            "2",
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert rc == 0 and "200-epoch accuracy of the best found" in out
    data = json.loads((tmp_path / "results.json").read_text())
    assert [r["seed"] for r in data["runs"]] == [0, 1]
    run = data["runs"][0]
    assert set(run) >= {"seed", "best_arch", "final_acc", "history"}
    assert arch_str_to_ops(run["best_arch"]) and len(run["history"]) == 30
    assert (tmp_path / "convergence.png").stat().st_size > 1000


def test_cli_search_multi_objective_and_compare(tmp_path, capsys):
    rc, out, _ = _cli(
        [
            "search",
            "nsga2",
            "--objectives",
            "accuracy,latency:raspi4",
            "--budget",
            "80",
            "--seed",
            "1",
            "--ref",
            "accuracy=85",
            "--out",
            str(tmp_path / "ns"),
        ],
        capsys,
    )
    assert rc == 0 and "exact front (44 cells" in out
    front = json.loads((tmp_path / "ns" / "front.json").read_text())
    assert front["front"] and {"arch", "accuracy", "latency:raspi4"} <= set(front["front"][0])
    assert 0 < front["hypervolume"] <= front["hypervolume_exact"]
    assert (tmp_path / "ns" / "front.png").is_file()
    _cli(
        [
            "search",
            "random",
            "--budget",
            "40",
            "--seeds",
            "3",
            "--quiet",
            "--out",
            str(tmp_path / "rs"),
        ],
        capsys,
    )
    rc, out, _ = _cli(
        ["compare", str(tmp_path / "rs"), str(tmp_path / "ns"), "--out", str(tmp_path / "c")],
        capsys,
    )
    assert rc == 0 and "REA" in out and "valid" in out and "test" in out
    assert (tmp_path / "c" / "compare.json").is_file()


@pytest.mark.parametrize(
    "argv, match",
    [
        (["search", "rea", "--budget", "0"], "budget"),
        (["search", "rea", "--budget", "abc"], "--budget"),
        (["search", "rea", "--objectives", "acuracy"], "metric"),
        (["search", "nsga2", "--objectives", "accuracy,latency:toaster"], "device"),
        (["search", "rea", "--dataset", "mnist"], "dataset"),
        (["search", "rea", "--objectives", "accuracy,params"], "single-objective"),
        (["search", "rea", "--benchmark", "nb101"], "--benchmark"),
        (["compare", "--strategies", "rea,annealing", "--seeds", "2"], "--strategies"),
    ],
)
def test_cli_errors_are_one_line(argv, match, tmp_path, capsys):
    rc, _, err = _cli(argv + (["--out", str(tmp_path)] if argv[0] == "search" else []), capsys)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and match in lines[0] and lines[0].startswith("nasfast ")


def test_ask_tell_by_hand_matches_minimize():
    problem, _ = _synthetic()
    strategy = make_strategy("rea", population_size=8, sample_size=3).setup(problem, seed=5)
    seen = []
    while len(seen) < 30:
        cands = [c for c in strategy.ask() if c not in seen][: 30 - len(seen)]
        strategy.tell(cands, problem.evaluate(cands))
        seen.extend(cands)
    res = minimize(problem, make_strategy("rea", population_size=8, sample_size=3), 30, seed=5)
    assert [e.candidate for e in res.history] == seen


def test_cli_compare_runs_strategies_and_scalarised_search(tmp_path, capsys):
    rc, out, _ = _cli(
        [
            "compare",
            "--strategies",
            "random,rea",
            "--budget",
            "30",
            "--seeds",
            "3",
            "--dataset",
            "cifar100",
        ],
        capsys,
    )
    assert rc == 0 and "MWU" in out and "CIFAR-10-searched" in out
    rc, out, _ = _cli(
        [
            "search",
            "local",
            "--objectives",
            "accuracy,latency:pixel3",
            "--scalarise",
            "epsilon",
            "--eps",
            "latency:pixel3=10",
            "--budget",
            "60",
            "--no-plots",
            "--quiet",
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert rc == 0
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["runs"][0]["search_metrics"]["latency:pixel3"] <= 10.0
    assert data["scalarisation"].startswith("epsilon")


@pytest.mark.parametrize("name", ["rea", "nsga2", "bo"])
def test_checkpoint_resume_after_kill_gives_same_result(name, tmp_path):
    ckpt = tmp_path / "run.json"
    problem, calls = _synthetic(batched=True)
    full = minimize(problem, make_strategy(name), 60, seed=4)

    class Killed(Exception):
        pass

    def kill(result):
        if result.n_evals >= 25:
            raise Killed

    with pytest.raises(Killed):
        minimize(problem, make_strategy(name), 60, seed=4, checkpoint=ckpt, callback=kill)
    n_saved = len(json.loads(ckpt.read_text())["history"])
    assert n_saved >= 25
    calls.clear()
    resumed = minimize(problem, make_strategy(name), 60, seed=4, checkpoint=ckpt)
    assert [e.candidate for e in resumed.history] == [e.candidate for e in full.history]
    assert [e.metrics for e in resumed.history] == [e.metrics for e in full.history]
    assert sum(calls) == 60 - n_saved  # the saved part is not evaluated again
    with pytest.raises(ValueError, match="^checkpoint: "):
        minimize(problem, make_strategy(name), 60, seed=5, checkpoint=ckpt)
