"""Learning-curve families, their fits, the ensemble and its prediction band."""

from __future__ import annotations

import numpy as np
import pytest

from nasfast.estimate.curves import FAMILIES, CurveEnsemble, extrapolate, fit_curve, get_family
from nasfast.estimate.curves.data import LearningCurve, load_curves, save_curves

# A rising, saturating curve drawn from each family's own formula (x is the scaled budget).
TRUE_PARAMS = {
    "last_value": [0.7],
    "pow3": [0.9, 0.5, 0.6],
    "pow4": [0.9, 0.6, 0.5, 0.7],
    "log_power": [0.9, 0.5, -1.2],
    "exp4": [0.9, 0.4, -0.3, 0.7],
    "mmf4": [0.9, 0.2, 0.3, 1.3],
    "wbl4": [0.9, 0.2, 0.15, 0.9],
    "janoschek": [0.9, 0.2, 0.2, 0.8],
    "ilog2": [0.95, 0.3],
    "hill3": [0.9, 1.5, 2.0],
    "vapor_pressure": [-0.1, -1.0, 0.01],
    "loglog_linear": [0.5, 1.5],
    "lin2": [0.01, 0.5],
    "exp2": [0.5, 0.02],
    "pow2": [0.5, 0.1],
    "log2": [0.1, 0.4],
}
X = np.arange(1, 16, dtype=float)


def test_every_family_has_a_test_curve_formula_and_source():
    assert set(TRUE_PARAMS) == set(FAMILIES)
    for fam in FAMILIES.values():
        assert fam.formula.startswith("y = ") and fam.source
        assert len(TRUE_PARAMS[fam.name]) == fam.n_params


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_fit_recovers_a_curve_of_the_family(name):
    fam = get_family(name)
    y = fam(X, np.array(TRUE_PARAMS[name]))
    fit = fit_curve(X, y, name)
    assert fit.rmse < 2e-3
    truth = fam(np.array([30.0]), np.array(TRUE_PARAMS[name]))
    assert abs(float(fit.predict(30.0)) - float(truth[0])) < 0.02


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_fit_of_a_flat_curve_stays_flat(name):
    fit = fit_curve(X, np.full(len(X), 0.5), name)
    assert abs(float(fit.predict(20.0)) - 0.5) < 0.02


@pytest.mark.parametrize("name", ["pow3", "mmf4", "exp4", "vapor_pressure", "hill3"])
def test_fit_of_a_noisy_non_monotone_curve_is_finite_and_close(name):
    rng = np.random.default_rng(0)
    y = 0.8 - 0.3 * X**-0.8 + rng.normal(0, 0.02, len(X))
    y[5] -= 0.1  # a dip
    fit = fit_curve(X, y, name)
    assert np.isfinite(fit.rmse) and fit.rmse < 0.06
    assert 0.5 < float(fit.predict(20.0)) < 1.1


def test_fewer_points_than_parameters_is_refused():
    with pytest.raises(ValueError, match=r"'pow4' has 4 parameters .* got 3$"):
        fit_curve([1, 2, 3], [0.1, 0.2, 0.3], "pow4")
    assert fit_curve([1, 2, 3, 4], [0.1, 0.2, 0.25, 0.3], "pow4").params.shape == (4,)


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        ([1, 2, 2], [0.1, 0.2, 0.3], "strictly increasing"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "positive"),
        ([1, 2, 3], [0.1, np.nan, 0.3], "finite"),
        ([1, 2, 3], [0.1, 0.2], "equal length"),
        ([], [], "at least one"),
    ],
)
def test_bad_curves_are_one_line_errors(x, y, match):
    with pytest.raises(ValueError, match=match):
        fit_curve(x, y, "pow3")


def test_unknown_family_names_the_choices():
    with pytest.raises(ValueError, match="family: expected one of last_value, pow3"):
        fit_curve(X, X, "pow9")


def test_ensemble_refuses_a_single_point_and_bad_settings():
    with pytest.raises(ValueError, match="at least 2 points, got 1"):
        CurveEnsemble().fit([1], [0.5])
    with pytest.raises(ValueError, match="holdout"):
        CurveEnsemble(holdout=1.0)
    with pytest.raises(ValueError, match="top_k"):
        CurveEnsemble(top_k=0)
    with pytest.raises(ValueError, match="limits"):
        CurveEnsemble(limits=(1, 0))
    with pytest.raises(ValueError, match="level"):
        CurveEnsemble().fit([1, 2, 3], [0.1, 0.2, 0.3]).predict(5, level=1.5)


def test_ensemble_weights_by_held_out_fit_and_band_brackets_the_mean():
    y = get_family("pow3")(X, np.array([0.9, 0.5, 0.6]))
    fitted = CurveEnsemble(top_k=3).fit(X, y)
    assert abs(sum(fitted.members.values()) - 1.0) < 1e-12
    assert "last_value" not in fitted.members  # a rising curve: the flat guess holds out worst
    p = fitted.predict([20.0, 40.0])
    assert np.all(p.lower <= p.mean) and np.all(p.mean <= p.upper)
    truth = get_family("pow3")(np.array([20.0, 40.0]), np.array([0.9, 0.5, 0.6]))
    assert np.all(np.abs(p.mean - truth) < 0.01)
    assert p.upper[1] - p.lower[1] >= p.upper[0] - p.lower[0]  # farther out, wider band


def test_ensemble_with_limits_clips_and_works_in_percent():
    x = np.arange(1, 9)
    y = 100 * (0.95 - 0.5 * x**-0.5)
    p = extrapolate(x, y, 200, limits=(0, 100))
    mean, lower, upper = p.at()
    assert 0 <= lower <= mean <= upper <= 100
    assert 85 < mean < 95


def test_two_points_fall_back_to_what_can_be_fitted():
    p = extrapolate([1, 2], [0.5, 0.6], 10)
    assert set(p.weights) <= {"last_value"}
    assert np.isfinite(p.mean).all()


def test_shipped_lcdb_subset_loads_and_the_ensemble_beats_a_straight_line():
    cs = load_curves("lcdb_subset")
    assert len(cs) >= 100 and "LCDB" in cs.meta["source"]
    errs_ens, errs_lin = [], []
    for c in cs.curves[:3]:
        n = len(c.x) // 2
        ens = extrapolate(c.x[:n], c.y[:n], c.x[-1], limits=(0, 1)).mean[0]
        lin = float(np.clip(fit_curve(c.x[:n], c.y[:n], "lin2").predict(c.x[-1]), 0, 1))
        errs_ens.append(abs(ens - c.y[-1]))
        errs_lin.append(abs(lin - c.y[-1]))
    assert np.mean(errs_ens) < np.mean(errs_lin)


def test_curve_sets_round_trip(tmp_path):
    curves = [LearningCurve("a", np.array([1.0, 2.0]), np.array([0.5, 0.6]))]
    save_curves(tmp_path / "c.npz", curves, {"how": "test"})
    back = load_curves(tmp_path / "c.npz")
    assert back.meta == {"how": "test"} and back.curves[0].name == "a"
    np.testing.assert_allclose(back.curves[0].y, [0.5, 0.6], rtol=1e-6)
    with pytest.raises(ValueError, match="path: no curve set"):
        load_curves(tmp_path / "missing.npz")


def test_shipped_fashion_mnist_epoch_curves_say_how_they_were_made():
    cs = load_curves("fashion_mnist_epochs")
    assert len(cs) >= 8 and "TrainRun" in cs.meta["how"] and cs.meta["limits"] == [0, 100]
    for c in cs:
        assert np.array_equal(c.x, np.arange(1, len(c.x) + 1)) and np.all((c.y >= 0) & (c.y <= 100))
