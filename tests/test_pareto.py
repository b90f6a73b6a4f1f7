"""nasfast.pareto: sorting, crowding, hypervolume, IGD, scalarizations, the pymoo plug-in."""

from __future__ import annotations

import moocore
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nasfast.pareto as P
from nasfast.pareto import reference
from nasfast.pareto._input import as_matrix
from tests.conftest import requires_cuda


@st.composite
def objective_matrices(draw, max_n: int = 40, min_m: int = 1, max_m: int = 8):
    """(N, M) matrices with ties, duplicate rows and integer-valued or continuous objectives."""
    m = draw(st.integers(min_m, max_m))
    n = draw(st.integers(0, max_n))
    if draw(st.booleans()):
        elems = st.integers(0, draw(st.integers(0, 4))).map(float)
    else:
        elems = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
    F = draw(arrays(np.float64, (n, m), elements=elems))
    if n >= 2 and draw(st.booleans()):
        F[draw(st.integers(0, n - 1))] = F[draw(st.integers(0, n - 1))]
    return F


# ---------------------------------------------------------------- non-dominated sorting


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(objective_matrices())
def test_ranks_match_brute_force(F):
    got = P.non_dominated_sort(F)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, reference.rank_reference(F))


@settings(max_examples=50, deadline=None)
@given(objective_matrices(max_n=60, min_m=2, max_m=6))
def test_pareto_front_is_rank_zero_and_maximize_negates(F):
    np.testing.assert_array_equal(P.pareto_front(F), np.flatnonzero(P.non_dominated_sort(F) == 0))
    m = F.shape[1]
    G = F.copy()
    G[:, m - 1] *= -1
    want = P.non_dominated_sort(G)
    np.testing.assert_array_equal(P.non_dominated_sort(F, maximize=[m - 1]), want)
    mask = [j == m - 1 for j in range(m)]
    np.testing.assert_array_equal(P.non_dominated_sort(F, maximize=mask), want)


@pytest.mark.parametrize(
    "m,n", [(2, 20000), (3, 5000), (4, 3000), (4, 20000), (5, 3000), (8, 2000)]
)
def test_ranks_match_moocore_on_larger_sets(m, n):
    rng = np.random.default_rng(m)
    F = rng.random((n, m))
    F[: n // 10] = np.round(F[: n // 10], 1)  # some ties
    np.testing.assert_array_equal(P.non_dominated_sort(F), moocore.pareto_rank(F))


def test_ranks_with_skewed_and_constant_columns_match_moocore():
    # The M >= 4 checkpoints come from value thresholds of a sample: heavy tails, a column of few
    # levels, a constant column and duplicated rows make their buckets very uneven.
    rng = np.random.default_rng(7)
    n = 8000
    F = np.column_stack(
        [
            rng.random(n),
            np.exp(20 * rng.random(n)),  # values over 9 decades
            rng.integers(0, 3, n).astype(float),
            np.full(n, 2.5),
            -(np.log(rng.random(n)) ** 3),
        ]
    )
    F[n // 2 :: 7] = F[: n // 2 : 7][: len(F[n // 2 :: 7])]
    np.testing.assert_array_equal(P.non_dominated_sort(F), moocore.pareto_rank(F))
    np.testing.assert_array_equal(P.non_dominated_sort(F[:, 1:]), moocore.pareto_rank(F[:, 1:]))


@pytest.mark.parametrize("m", [3, 4, 6])
def test_ranks_with_many_fronts_match_moocore(m):
    # Strongly correlated objectives: hundreds of fronts (M >= 4 leaves the bitset scan for the
    # divide and conquer past 256 fronts).
    rng = np.random.default_rng(m)
    base = rng.random((3000, 1))
    F = base + 0.002 * rng.random((3000, m))
    got = P.non_dominated_sort(F)
    assert got.max() > 256
    np.testing.assert_array_equal(got, moocore.pareto_rank(F))


def test_identical_rows_share_a_rank():
    F = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 3.0], [2.0, 2.0], [-0.0, 3.0]])
    np.testing.assert_array_equal(P.non_dominated_sort(F), [0, 0, 0, 1, 0])


def test_torch_in_torch_out_and_no_copy():
    arr = np.random.default_rng(0).random((100, 3))
    t, _ = as_matrix(arr, "F")
    assert t.data_ptr() == arr.ctypes.data  # numpy float64 C-contiguous: shared memory
    x = torch.from_numpy(arr)
    t2, _ = as_matrix(x, "F")
    assert t2.data_ptr() == x.data_ptr()
    r = P.non_dominated_sort(x)
    assert isinstance(r, torch.Tensor) and r.dtype == torch.int64
    np.testing.assert_array_equal(r.numpy(), P.non_dominated_sort(arr))
    # float32, non-contiguous and integer inputs are converted.
    np.testing.assert_array_equal(P.non_dominated_sort(x.float().T.contiguous().T), r.numpy())
    np.testing.assert_array_equal(P.non_dominated_sort(arr[::-1])[::-1], r.numpy())
    assert P.non_dominated_sort(np.array([[1, 2], [2, 1], [2, 2]])).tolist() == [0, 0, 1]


def test_empty_inputs_give_empty_results():
    for F in (np.zeros((0, 3)), torch.zeros(0, 2)):
        assert len(P.non_dominated_sort(F)) == 0
        assert len(P.pareto_front(F)) == 0
        assert len(P.crowding_distance(F)) == 0
        assert P.hypervolume(F, [1.0] * F.shape[1]) == 0.0
        assert len(P.weighted_sum(F, [1.0] * F.shape[1])) == 0


@pytest.mark.parametrize(
    "fn",
    [
        P.non_dominated_sort,
        P.pareto_front,
        P.crowding_distance,
        lambda F: P.igd(F, F),
        lambda F: P.hypervolume(F, [2.0, 2.0]),
        lambda F: P.weighted_sum(F, [1.0, 1.0]),
    ],
)
def test_bad_inputs_raise_value_error(fn):
    with pytest.raises(ValueError, match="F: expected finite"):
        fn(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="F: expected finite"):
        fn(torch.tensor([[1.0, float("inf")]]))
    with pytest.raises(ValueError, match=r"F: expected shape \(N, M\)"):
        fn(np.zeros(5))
    with pytest.raises(ValueError, match=r"F: expected shape \(N, M\)"):
        fn(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="F: expected a numpy array or torch tensor"):
        fn("not an array")


def test_bad_arguments_name_themselves():
    F = np.random.default_rng(0).random((5, 3))
    with pytest.raises(ValueError, match="ref: expected shape"):
        P.hypervolume(F, [1.0, 1.0])
    with pytest.raises(ValueError, match="ref: expected finite"):
        P.hypervolume(F, [1.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="maximize: objective index 3"):
        P.non_dominated_sort(F, maximize=[3])
    with pytest.raises(ValueError, match="maximize: expected 3 booleans"):
        P.non_dominated_sort(F, maximize=[True, False])
    with pytest.raises(ValueError, match="front: expected 3 objectives"):
        P.igd(F, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="rank: expected shape"):
        P.crowding_distance(F, rank=np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match="weights: expected shape"):
        P.weighted_sum(F, [1.0])
    with pytest.raises(ValueError, match="objective: expected an objective index"):
        P.epsilon_constraint(F, 5, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="backend"):
        P.non_dominated_sort(F, backend="magic")
    with pytest.raises(ValueError, match="F: expected"):
        torch.ops.nasfast.pareto_rank(torch.zeros(3))
    with pytest.raises(ValueError, match="F: expected dtype float64"):
        torch.ops.nasfast.pareto_rank(torch.zeros(3, 2, dtype=torch.float32))


# ---------------------------------------------------------------- crowding distance


@settings(max_examples=100, deadline=None)
@given(objective_matrices(max_n=40, min_m=2, max_m=5))
def test_crowding_matches_pymoo_per_front(F):
    from pymoo.operators.survival.rank_and_crowding.metrics import calc_crowding_distance

    rank = P.non_dominated_sort(F)
    cd = P.crowding_distance(F)
    for r in np.unique(rank):
        idx = np.flatnonzero(rank == r)
        want = calc_crowding_distance(F[idx]) if len(idx) > 2 else np.full(len(idx), np.inf)
        np.testing.assert_array_equal(cd[idx], want)
    np.testing.assert_array_equal(cd, reference.crowding_reference(F, rank))
    np.testing.assert_array_equal(P.crowding_distance(F, rank=rank), cd)


# ---------------------------------------------------------------- hypervolume


@settings(max_examples=150, deadline=None)
@given(objective_matrices(max_n=9, min_m=1, max_m=5), st.floats(-2, 1e3))
def test_hypervolume_matches_exact_grid(F, r):
    ref = np.full(F.shape[1], r)
    want = reference.hypervolume_reference(F, ref)
    assert P.hypervolume(F, ref) == pytest.approx(want, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("m,n", [(2, 5000), (3, 2000), (4, 300), (5, 120), (6, 50)])
def test_hypervolume_matches_moocore(m, n):
    rng = np.random.default_rng(m)
    F = rng.random((n, m))
    ref = np.full(m, 1.1)
    assert P.hypervolume(F, ref) == pytest.approx(moocore.hypervolume(F, ref=ref), rel=1e-10)


def test_hypervolume_points_not_better_than_ref_contribute_nothing():
    F = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 2.0]])  # only the first is strictly better
    assert P.hypervolume(F, [1.0, 1.0]) == pytest.approx(0.25)
    # Maximized objective: volume between ref and the points above it.
    assert P.hypervolume(np.array([[0.5, 3.0]]), [1.0, 1.0], maximize=[1]) == pytest.approx(1.0)


# ---------------------------------------------------------------- IGD and scalarizations


def test_igd_matches_pymoo():
    from pymoo.indicators.igd import IGD

    rng = np.random.default_rng(0)
    F, front = rng.random((300, 3)), rng.random((500, 3))
    assert P.igd(F, front, chunk=64) == pytest.approx(IGD(front).do(F), rel=1e-12)
    assert P.igd(front, front) == 0.0


def test_scalarizations():
    rng = np.random.default_rng(0)
    F = rng.random((50, 3))
    w = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(P.weighted_sum(F, w), F @ w)
    np.testing.assert_allclose(P.weighted_sum(F, w, maximize=[0]), F @ (w * [-1, 1, 1]))
    z = F.min(0)
    np.testing.assert_allclose(P.chebyshev(F, w), (np.abs(F - z) * w).max(1))
    ideal = np.zeros(3)
    aug = (F * w).max(1) + 0.01 * (F * w).sum(1)
    np.testing.assert_allclose(P.chebyshev(torch.from_numpy(F), w, ideal=ideal, rho=0.01), aug)
    eps = np.array([0.0, 0.5, 0.4])
    got = P.epsilon_constraint(F, 0, eps)
    ok = (F[:, 1] <= 0.5) & (F[:, 2] <= 0.4)
    np.testing.assert_array_equal(got, np.where(ok, F[:, 0], np.inf))
    got = P.epsilon_constraint(F, 0, eps, maximize=[1])  # f1 >= 0.5
    ok = (F[:, 1] >= 0.5) & (F[:, 2] <= 0.4)
    np.testing.assert_array_equal(got, np.where(ok, F[:, 0], np.inf))


# ---------------------------------------------------------------- torch.library


@pytest.mark.parametrize("m", [2, 3, 5])
def test_opcheck(m):
    F = torch.rand(40, m, dtype=torch.float64)
    rank = torch.ops.nasfast.pareto_rank(F)
    torch.library.opcheck(torch.ops.nasfast.pareto_rank.default, (F,))
    torch.library.opcheck(torch.ops.nasfast.pareto_crowding.default, (F, rank))
    ref = torch.full((m,), 1.5, dtype=torch.float64)
    torch.library.opcheck(torch.ops.nasfast.pareto_hypervolume.default, (F, ref))


def test_reference_backend_agrees():
    F = np.random.default_rng(3).integers(0, 4, (60, 3)).astype(float)
    np.testing.assert_array_equal(
        P.non_dominated_sort(F), P.non_dominated_sort(F, backend="reference")
    )
    np.testing.assert_array_equal(
        P.crowding_distance(F), P.crowding_distance(F, backend="reference")
    )
    assert P.hypervolume(F[:12], [5, 5, 5]) == pytest.approx(
        P.hypervolume(F[:12], [5, 5, 5], backend="reference")
    )


# ---------------------------------------------------------------- pymoo plug-in


@pytest.mark.parametrize("problem,n_gen", [("zdt1", 25), ("dtlz2", 15), ("zdt3", 20)])
def test_nsga2_same_population_as_pymoo(problem, n_gen):
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.optimize import minimize
    from pymoo.problems import get_problem

    prob = get_problem(problem)
    a = minimize(prob, NSGA2(pop_size=40), ("n_gen", n_gen), seed=7)
    b = minimize(
        prob, NSGA2(pop_size=40, survival=P.NasfastRankAndCrowding()), ("n_gen", n_gen), seed=7
    )
    np.testing.assert_array_equal(a.pop.get("X"), b.pop.get("X"))
    np.testing.assert_array_equal(a.pop.get("F"), b.pop.get("F"))
    np.testing.assert_array_equal(a.pop.get("rank"), b.pop.get("rank"))
    np.testing.assert_array_equal(a.pop.get("crowding"), b.pop.get("crowding"))


def test_pymoo_non_dominated_sorting_object():
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    F = np.random.default_rng(0).integers(0, 5, (80, 3)).astype(float)
    ours = P.NasfastNonDominatedSorting()
    theirs = NonDominatedSorting()
    for kw in ({}, {"n_stop_if_ranked": 30}, {"only_non_dominated_front": True}):
        a, b = ours.do(F, **kw), theirs.do(F, **kw)
        if kw.get("only_non_dominated_front"):
            np.testing.assert_array_equal(a, b)
        else:
            assert len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                np.testing.assert_array_equal(x, y)


# ---------------------------------------------------------------- CUDA


@requires_cuda
@pytest.mark.parametrize("m", [2, 3, 5])
def test_cuda_ranks_match_cpu(m):
    F = torch.rand(3000, m, dtype=torch.float64)
    F[:300] = torch.round(F[:300] * 10) / 10
    got = P.non_dominated_sort(F.cuda())
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), P.non_dominated_sort(F))
