"""Discrete search over a model space: every strategy through ``minimize`` with a user trainer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nasfast.search import STRATEGIES, make_strategy, minimize
from nasfast.search.model_problem import ModelProblem
from nasfast.spaces.model import LayerChoice, ModelSpace, Repeat, choice


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        width = choice("width", [2, 4, 8])
        self.inp = nn.Linear(3, width)
        self.body = Repeat(
            lambda i: LayerChoice({"relu": nn.ReLU(), "lin": nn.Linear(width, width)}, f"op{i}"),
            [0, 1, 2],
            label="depth",
        )
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        return self.out(self.body(self.inp(x)))


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


KWARGS = {
    "random": {},
    "rea": {"population_size": 4, "sample_size": 2},
    "reinforce": {"batch_size": 2},
    "bo": {"n_startup_trials": 3},
    "local": {},
    "nsga2": {"pop_size": 4},
    "bananas": {"n_initial": 4, "batch_size": 2},
    "naswot": {"proxy": lambda cands: [-sum(c) for c in cands], "n_samples": 50},
}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_searches_a_model_space(name):
    space = ModelSpace(Tiny)
    seen: list[tuple[type, int]] = []

    def evaluate(model: nn.Module, fidelity: int) -> dict:
        seen.append((type(model), fidelity))
        n = _params(model)
        return {"size_gap": abs(n - 60), "params": n}

    objectives = ["min:size_gap", "min:params"] if name == "nsga2" else ["min:size_gap"]
    problem = ModelProblem(space, evaluate, objectives, fidelity=3)
    res = minimize(problem, make_strategy(name, **KWARGS[name]), budget=8, seed=0)
    assert res.n_evals == 8
    assert len({e.candidate for e in res.history}) == 8
    assert seen and all(t is Tiny and f == 3 for t, f in seen)
    best = problem.space.arch(res.best.candidate)
    assert space.validate(best) == best
    assert res.best.metrics["size_gap"] == min(e.metrics["size_gap"] for e in res.history)


def test_exhaustive_search_finds_the_known_optimum():
    space = ModelSpace(Tiny)
    ds = space.discrete()

    def evaluate(model, fidelity):
        return {"size_gap": abs(_params(model) - 60)}

    problem = ModelProblem(ds, evaluate, ["min:size_gap"])
    res = minimize(problem, make_strategy("random"), budget=ds.size, seed=1)
    gaps = {ds.describe(c): abs(_params(ds.freeze(c)) - 60) for c in ds.enumerate()}
    assert res.best.metrics["size_gap"] == min(gaps.values())


def test_discrete_view_round_trips_candidates_and_archs():
    space = ModelSpace(Tiny)
    ds = space.discrete()
    assert ds.names == space.labels and ds.n_choices.tolist() == [3, 3, 2, 2]
    for c in ds.enumerate():
        arch = ds.arch(c)
        assert ds.candidate(arch) == c
        assert ds.parse(ds.describe(c)) == c
    with pytest.raises(ValueError, match="candidate"):
        ds.arch((9, 0, 0, 0))


def test_evaluate_at_passes_another_fidelity_and_keeps_the_default():
    calls = []
    problem = ModelProblem(
        ModelSpace(Tiny), lambda m, f: calls.append(f) or {"acc": 1.0}, ["max:acc"], fidelity=1
    )
    c = problem.space.sample(__import__("numpy").random.default_rng(0))[0]
    problem.evaluate_at([c], 9)
    problem.evaluate([c])
    assert calls == [9, 1]


def test_model_problem_rejects_bad_arguments():
    with pytest.raises(ValueError, match="space: expected a ModelSpace"):
        ModelProblem(object(), lambda m, f: {}, ["max:acc"])
    with pytest.raises(ValueError, match="evaluate: expected a callable"):
        ModelProblem(ModelSpace(Tiny), 3, ["max:acc"])


def test_trainer_gets_a_trainable_plain_model():
    space = ModelSpace(Tiny)

    def evaluate(model, fidelity):
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.randn(16, 3), torch.randn(16, 1)
        first = None
        for _ in range(fidelity):
            loss = ((model(x) - y) ** 2).mean()
            first = float(loss.detach()) if first is None else first
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            return {"gain": first - float(((model(x) - y) ** 2).mean())}

    torch.manual_seed(0)
    problem = ModelProblem(space, evaluate, ["max:gain"], fidelity=5)
    res = minimize(problem, make_strategy("rea"), 4, 0)
    assert all(e.metrics["gain"] > 0 for e in res.history)


def test_candidates_building_the_same_model_are_trained_once():
    space = ModelSpace(Tiny)
    ds = space.discrete()
    shallow = {"width": 4, "depth": 0, "op0": "relu", "op1": "relu"}
    same = {**shallow, "op0": "lin", "op1": "lin"}  # op0, op1 sit in blocks depth 0 leaves out
    deeper = {**shallow, "depth": 1}
    assert space.key(shallow) == space.key(same) != space.key(deeper)
    assert space.key({**deeper, "op1": "lin"}) == space.key(deeper)
    assert space.key({**deeper, "op0": "lin"}) != space.key(deeper)
    calls = []
    problem = ModelProblem(space, lambda m, f: calls.append(f) or {"p": _params(m)}, ["max:p"])
    cands = [ds.candidate(a) for a in (shallow, same, deeper)]
    out = problem.evaluate(cands)
    assert out[0] == out[1] and len(calls) == problem.trained == 2
    problem.evaluate_at(cands[:1], 7)  # another fidelity is a new training
    assert calls == [None, None, 7]
    plain = ModelProblem(space, lambda m, f: {"p": _params(m)}, ["max:p"], deduplicate=False)
    plain.evaluate(cands)
    assert plain.trained == 3
