"""Predictor models: each learns a known function, is deterministic under a seed, and the
uncertainty comes where the model has one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau

from nasfast.estimate.predictors import (
    GCNPredictor,
    GPPredictor,
    LightGBMPredictor,
    MLPEnsemble,
    RandomForestPredictor,
    low_fidelity_features,
    make_predictor,
)
from nasfast.estimate.predictors.mlp import _BatchedMLP
from nasfast.spaces import NB201Space
from nasfast.tabular.nb201 import NB201Table

FAST = {
    "mlp": dict(epochs=150, hidden=16),
    "gcn": dict(epochs=60, hidden=16, layers=2),
    "lgb": dict(n_estimators=100),
    "rf": dict(n_estimators=30),
    "gp": dict(restarts=0),
}


def _cells(n: int, seed: int):
    return NB201Space().sample(np.random.default_rng(seed), n)


def _target(cells) -> np.ndarray:
    """A smooth function of the cell: reward conv3x3 and penalise none, per edge weights."""
    C = np.asarray(cells)
    w = np.array([1.0, 0.5, 1.5, 0.7, 1.2, 0.9])
    return ((C == 3) * w).sum(1) - ((C == 0) * w).sum(1) + 0.3 * (C == 2).sum(1)


@pytest.mark.parametrize("model", sorted(FAST))
def test_model_learns_a_known_function(model):
    train, test = _cells(120, 0), _cells(80, 1)
    encoding = "auto" if model == "gcn" else "onehot"  # the target is linear in the one-hot
    pred = make_predictor(model, NB201Space(), encoding, **FAST[model])
    pred.fit(train, _target(train), seed=0)
    tau = kendalltau(pred.predict(test), _target(test))[0]
    assert tau > 0.6, f"{model}: tau {tau:.2f}"
    again = make_predictor(model, NB201Space(), encoding, **FAST[model])
    again.fit(train, _target(train), seed=0)
    assert np.allclose(pred.predict(test), again.predict(test))
    if pred.has_std:
        mean, std = pred.predict_dist(test)
        assert np.allclose(mean, pred.predict(test))
        assert std.shape == (80,) and (std >= 0).all() and std.max() > 0


def test_predictions_are_in_the_metric_units():
    """The target is standardised inside fit: an affine change of y changes the answer alike."""
    train, test = _cells(60, 2), _cells(20, 3)
    y = _target(train)
    a = make_predictor("mlp", NB201Space(), **FAST["mlp"]).fit(train, y, seed=0)
    b = make_predictor("mlp", NB201Space(), **FAST["mlp"]).fit(train, 80.0 + 5.0 * y, seed=0)
    assert np.allclose(b.predict(test), 80.0 + 5.0 * a.predict(test), atol=1e-4)
    assert np.allclose(b.predict_dist(test)[1], 5.0 * a.predict_dist(test)[1], atol=1e-4)


def test_batched_mlp_is_independent_mlps():
    gen = torch.Generator().manual_seed(0)
    net = _BatchedMLP(3, [4, 5, 1], gen)
    x = torch.randn(3, 7, 4)
    out = net(x)
    for m in range(3):
        w0, b0 = net.weights[0][m], net.biases[0][m]
        w1, b1 = net.weights[1][m], net.biases[1][m]
        ref = (torch.relu(x[m] @ w0 + b0) @ w1 + b1).squeeze(-1)
        assert torch.allclose(out[m], ref, atol=1e-6)


def test_torch_models_train_on_one_thread_and_restore_the_callers_setting():
    from nasfast.estimate.predictors._torch import single_thread

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with single_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        make_predictor("mlp", NB201Space(), **FAST["mlp"]).fit(_cells(20, 6), np.arange(20.0))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_gcn_uses_extra_features_and_checks_width():
    space = NB201Space()
    with pytest.raises(ValueError, match="needs >= 120 features"):
        GCNPredictor(8, 7, epochs=1).fit(np.zeros((4, 50)), np.arange(4.0))
    train = _cells(40, 3)
    y = np.random.default_rng(0).normal(size=40)  # unrelated to the graph, given as a feature
    pred = make_predictor(
        "gcn", space, features=lambda cs: y[[train.index(c) for c in cs]], **FAST["gcn"]
    ).fit(train, y, seed=0)
    assert kendalltau(pred.predict(train), y)[0] > 0.8


def test_low_fidelity_feature_lifts_ranking_on_nb201():
    table = NB201Table.load()
    y = table.columns["acc200_val_c10valid"]
    train, test = _cells(60, 4), _cells(150, 5)
    yt, ye = y[table.indices_of(train)], y[table.indices_of(test)]
    lf = low_fidelity_features("cifar10")
    plain = make_predictor("rf", NB201Space(), "onehot", **FAST["rf"]).fit(train, yt, seed=0)
    with_lf = make_predictor("rf", NB201Space(), "onehot", lf, **FAST["rf"]).fit(train, yt, seed=0)
    tau_plain = kendalltau(plain.predict(test), ye)[0]
    tau_lf = kendalltau(with_lf.predict(test), ye)[0]
    assert tau_lf > 0.6 and tau_lf > tau_plain + 0.1, (tau_plain, tau_lf)


def test_model_classes_validate_arguments():
    for bad in (
        lambda: MLPEnsemble(epochs=0),
        lambda: GCNPredictor(0, 7),
        lambda: LightGBMPredictor(num_leaves=1),
        lambda: RandomForestPredictor(min_samples_leaf=0),
        lambda: GPPredictor(restarts=-1),
        lambda: MLPEnsemble(weight_decay=-1),
    ):
        with pytest.raises(ValueError, match="expected"):
            bad()
