"""Multi-fidelity schedulers on spaces with a known answer, budgets in fidelity units, resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasfast.search import Problem
from nasfast.search.multifidelity import (
    ASHA,
    BOHB,
    CurveStopping,
    Fidelity,
    Hyperband,
    MultiFidelityProblem,
    SuccessiveHalving,
    make_scheduler,
    minimize_multifidelity,
    nb201_problem,
)
from nasfast.spaces import DiscreteSpace

QUALITY = np.array([0.30, 0.90, 0.10, 0.70, 0.50, 0.80, 0.20, 0.60, 0.40, 0.95, 0.05, 0.65])


def toy_problem(fidelity: Fidelity, calls: list | None = None) -> MultiFidelityProblem:
    """Candidate i reaches QUALITY[i] at the full budget; at budget b it shows
    QUALITY[i] * b / (b + 2), so the ranking is the same at every budget."""

    def objective(c, budget):
        if calls is not None:
            calls.append((c, budget))
        q = QUALITY[c[0]]
        return {"acc": float(q * budget / (budget + 2.0))}

    return MultiFidelityProblem(DiscreteSpace([len(QUALITY)]), objective, ["max:acc"], fidelity)


FID27 = Fidelity("epochs", 1, 27, continues=False)
FAST = ("last_value", "pow3", "ilog2")  # quick fits keep the tests short


def test_fidelity_rungs_costs_and_checks():
    assert FID27.rungs(3) == [1, 3, 9, 27]
    assert Fidelity("epochs", 12, 200, levels=(200, 12)).rungs(3) == [12, 200]
    cont = Fidelity("epochs", 1, 10)
    assert cont.cost(5, None) == 5 and cont.cost(8, 5) == 3
    assert FID27.cost(9, 3) == 9
    with pytest.raises(ValueError, match="fidelity: expected 0 < min <= max"):
        Fidelity("epochs", 5, 1)
    with pytest.raises(ValueError, match="levels"):
        Fidelity("epochs", 12, 200, levels=(12, 100))
    with pytest.raises(ValueError, match="budget: expected epochs in"):
        toy_problem(FID27).evaluate_at([(0,)], 30)


def test_successive_halving_promotes_the_best_third_each_rung():
    p = toy_problem(FID27)
    res = minimize_multifidelity(p, SuccessiveHalving(eta=3, n_initial=9), 9 + 3 * 3 + 9 + 27)
    by_rung = {}
    for t in res.trials:
        by_rung.setdefault(t.budget, []).append(t.candidate[0])
    first = by_rung[1]
    assert len(first) == 9 and len(set(first)) == 9
    top3 = sorted(first, key=lambda i: -QUALITY[i])[:3]
    assert sorted(by_rung[3]) == sorted(top3)
    assert by_rung[9] == [max(top3, key=lambda i: QUALITY[i])]
    assert by_rung[27] == by_rung[9]
    assert res.best.candidate[0] == by_rung[27][0]
    assert res.spent == 9 + 9 + 9 + 27 and res.stopped == "budget"


def test_hyperband_brackets_follow_the_plan():
    hb = Hyperband(eta=3).setup(toy_problem(FID27), seed=0)
    assert [hb.bracket_plan(i) for i in range(5)] == [(0, 27), (1, 12), (2, 6), (3, 4), (0, 27)]


def test_budget_is_counted_in_fidelity_units_and_never_exceeded():
    for name in ("sh", "hyperband", "asha", "bohb"):
        res = minimize_multifidelity(toy_problem(FID27), make_scheduler(name, eta=3), 100, seed=1)
        assert res.spent <= 100
        assert res.spent == pytest.approx(sum(t.cost for t in res.trials))
        assert res.unit == "epochs"
        assert all(t.cost == t.budget for t in res.trials if t.cost)  # no continuation


def test_continuing_fidelity_charges_only_the_extra_budget():
    fid = Fidelity("epochs", 1, 9, continues=True)
    res = minimize_multifidelity(toy_problem(fid), SuccessiveHalving(eta=3, n_initial=9), 1000)
    costs = {(t.candidate, t.budget): t.cost for t in res.trials}
    promoted = [c for (c, b) in costs if b == 3]
    assert all(costs[(c, 3)] == 2 for c in promoted)


def test_asha_promotes_only_from_the_top_of_a_rung():
    fid = Fidelity("epochs", 1, 9, continues=False)
    res = minimize_multifidelity(toy_problem(fid), ASHA(eta=3), 150, seed=3)
    rungs = [1, 3, 9]
    seen: dict[float, list] = {b: [] for b in rungs}
    for t in res.trials:
        k = rungs.index(t.budget)
        if k > 0:
            below = sorted(seen[rungs[k - 1]], key=lambda c: -QUALITY[c[0]])
            assert t.candidate in below[: len(below) // 3]
        seen[t.budget].append(t.candidate)
    assert seen[9] == [(int(np.argmax(QUALITY)),)]  # 12 at rung 1 -> 4 at rung 2 -> the best


def test_bohb_uses_its_model_once_a_rung_has_enough_results():
    def objective(c, budget):
        return {"acc": float(QUALITY[c[0]] + 0.01 * c[1]) * budget / (budget + 2.0)}

    fid = Fidelity("epochs", 1, 9, continues=False)
    p = MultiFidelityProblem(DiscreteSpace([12, 12]), objective, ["max:acc"], fid)
    sched = BOHB(eta=3, n_min=3, random_fraction=0.0)
    res = minimize_multifidelity(p, sched, 300, seed=0)
    assert sched.model_samples > 0
    pairs = [(t.candidate, t.budget) for t in res.trials]
    assert len(pairs) == len(set(pairs))  # the model never re-proposes a tried candidate


def test_curve_stopping_stops_bad_candidates_and_trains_the_best_fully():
    fid = Fidelity("epochs", 1, 8, continues=True)
    p = toy_problem(fid)
    sched = CurveStopping(min_points=3, level=0.9, limits=(0, 1), families=FAST)
    res = minimize_multifidelity(p, sched, 8 * len(QUALITY), seed=0)
    assert res.stopped == "exhausted"  # every candidate seen within the budget
    assert sched.n_stopped >= 4
    assert res.spent < 8 * len(QUALITY) * 0.75
    assert res.best.candidate[0] == int(np.argmax(QUALITY))
    for predicted in sched.stopped.values():
        assert predicted < max(e.metrics["acc"] for e in res.history)


def test_curve_stopping_against_the_incumbent_predicted_at_the_same_budget():
    fid = Fidelity("epochs", 1, 8, continues=True)
    sched = CurveStopping(limits=(0, 1), families=FAST, compare="same_budget")
    res = minimize_multifidelity(toy_problem(fid), sched, 8 * len(QUALITY), seed=0)
    assert sched.n_stopped >= 4 and res.best.candidate[0] == int(np.argmax(QUALITY))
    inc = sched.incumbent_curve
    assert inc[-1][1] == max(e.metrics["acc"] for e in res.history)
    assert set(sched.bar_cache) <= set(range(3, 8))  # predictions from 3..7 of its points
    with pytest.raises(ValueError, match="compare: expected 'final' or 'same_budget'"):
        CurveStopping(compare="median")


def test_curve_stopping_needs_a_continuing_fidelity():
    with pytest.raises(ValueError, match="fidelity: stopping by extrapolated curve"):
        CurveStopping().setup(toy_problem(FID27))


@pytest.mark.parametrize("name", ["sh", "asha", "bohb", "curve"])
def test_interrupted_run_resumes_to_the_same_result(tmp_path, name):
    fid = Fidelity("epochs", 1, 9, continues=True)
    kwargs = {"limits": (0, 1), "families": FAST} if name == "curve" else {"eta": 3}
    budget = 40
    full = minimize_multifidelity(toy_problem(fid), make_scheduler(name, **kwargs), budget, seed=5)

    class Killed(Exception):
        pass

    def kill_after_some(res):
        if len(res.trials) >= 7:
            raise Killed

    ck = tmp_path / "ck.json"
    with pytest.raises(Killed):
        minimize_multifidelity(
            toy_problem(fid),
            make_scheduler(name, **kwargs),
            budget,
            seed=5,
            checkpoint=ck,
            callback=kill_after_some,
        )
    calls: list = []
    resumed = minimize_multifidelity(
        toy_problem(fid, calls), make_scheduler(name, **kwargs), budget, seed=5, checkpoint=ck
    )
    key = [(t.candidate, t.budget, t.metrics, t.cost) for t in full.trials]
    assert [(t.candidate, t.budget, t.metrics, t.cost) for t in resumed.trials] == key
    assert len(calls) <= len(full.trials) - 7  # the checkpointed trials were not rerun
    with pytest.raises(ValueError, match="checkpoint: .* holds scheduler"):
        minimize_multifidelity(
            toy_problem(fid), make_scheduler("hyperband"), budget, 5, checkpoint=ck
        )


def test_nb201_two_rung_schedule_is_scored_exactly():
    from nasfast.tabular.nb201 import NB201Table

    table = NB201Table.load()
    p = nb201_problem()
    res = minimize_multifidelity(p, SuccessiveHalving(eta=10), 3000, seed=0)
    for t in res.trials:
        col = "acc12_cifar10_val" if t.budget == 12 else "acc200_val_c10valid"
        assert t.metrics["accuracy"] == table.column(col)[t.metrics["index"]]
    full = [t for t in res.trials if t.budget == 200]
    assert res.best.metrics["final_acc"] == max(t.metrics["accuracy"] for t in full)
    assert res.spent == sum(12 if t.budget == 12 else 200 for t in res.trials)
    units, best = res.incumbent_trace()
    assert np.all(np.diff(best) >= 0) and units[-1] <= res.spent


def test_bad_arguments_are_one_line_errors():
    p = toy_problem(FID27)
    with pytest.raises(ValueError, match="budget: expected a positive number of epochs"):
        minimize_multifidelity(p, SuccessiveHalving(), 0)
    with pytest.raises(ValueError, match="eta: expected a reduction factor > 1"):
        SuccessiveHalving(eta=1)
    with pytest.raises(ValueError, match="scheduler: expected one of"):
        make_scheduler("pbt")
    plain = Problem(DiscreteSpace([3]), lambda c: {"acc": 1.0}, ["max:acc"])
    with pytest.raises(ValueError, match="problem: expected a MultiFidelityProblem"):
        SuccessiveHalving().setup(plain)


def test_as_a_plain_problem_it_evaluates_at_the_full_budget():
    from nasfast.search import make_strategy, minimize

    res = minimize(toy_problem(FID27), make_strategy("random"), 4, seed=0)
    for e in res.history:
        assert e.metrics["acc"] == pytest.approx(QUALITY[e.candidate[0]] * 27 / 29)


def test_a_strategy_can_propose_the_candidates_and_learns_their_first_results():
    def objective(c, budget):
        return {"acc": float(QUALITY[c[0]] + 0.01 * c[1]) * budget / (budget + 2.0)}

    fid = Fidelity("epochs", 1, 9, continues=False)
    p = MultiFidelityProblem(DiscreteSpace([12, 12]), objective, ["max:acc"], fid)
    sched = SuccessiveHalving(eta=3, sampler="rea")
    res = minimize_multifidelity(p, sched, 400, seed=0)
    firsts = {t.candidate for t in res.trials if t.budget == 1}
    assert set(sched.proposer.first) == firsts  # REA was told every first look
    assert sched.proposer.strategy.n_told >= len(firsts)  # repeats are told again
    assert res.best.metrics["acc"] > 0
    with pytest.raises(ValueError, match="sampler: expected a single-objective strategy"):
        SuccessiveHalving(sampler="nsga2")
    with pytest.raises(ValueError, match="strategy: expected one of"):
        ASHA(sampler="pso")


def test_epochwise_training_continues_and_a_restart_gives_the_same_numbers():
    from darts_helpers import tiny_data

    from nasfast.darts.train import TrainConfig
    from nasfast.search.multifidelity.training import (
        EpochwiseTraining,
        split_validation,
        training_problem,
    )

    train, test = split_validation(tiny_data(n=40, size=8), 16)
    cfg = TrainConfig(epochs=3, batch_size=8, drop_path=0.0, seed=1)
    cell = (3, 1, 0, 2, 4, 1)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        obj = EpochwiseTraining(train, test, cfg, channels=2)
        p = training_problem(obj)
        m2 = p.evaluate_at([cell], 2)[0]
        m3 = p.evaluate_at([cell], 3)[0]
        assert [r["epoch"] for r in obj.log] == [1, 2, 3]  # epoch 3 continued the run
        assert "test_acc" in m3 and "test_acc" not in m2
        again = EpochwiseTraining(train, test, cfg, channels=2)
        assert again(cell, 3)["val_acc"] == m3["val_acc"]
    finally:
        torch.set_num_threads(n)
    with pytest.raises(ValueError, match="n_val: expected 1 <= n_val < 40"):
        split_validation(tiny_data(n=40, size=8), 40)
