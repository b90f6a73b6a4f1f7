"""Predictor interface and encodings: shapes, hand-computed NAS-Bench-201 cases, input errors."""

from __future__ import annotations

import numpy as np
import pytest

from nasfast.estimate.predictors import (
    Concat,
    Features,
    NB201Adjacency,
    NB201Graph,
    NB201Path,
    OneHot,
    RandomForestPredictor,
    low_fidelity_features,
    make_encoding,
    make_predictor,
    nb201_table_features,
    table_proxy_features,
)
from nasfast.estimate.predictors.nb201_encodings import op_graph
from nasfast.spaces import DiscreteSpace, NB201Space
from nasfast.tabular.nb201 import NB201Table

# edges in official order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2; 0 none 1 skip 2 conv1 3 conv3 4 pool
CELL = (1, 0, 2, 0, 3, 4)


def test_one_hot_any_discrete_space():
    space = DiscreteSpace([3, ["a", "b"], 4])
    X = OneHot(space)([(0, 1, 3), (2, 0, 0)])
    assert X.shape == (2, 9) and OneHot(space).dim == 9
    assert X[0].tolist() == [1, 0, 0, 0, 1, 0, 0, 0, 1]
    with pytest.raises(ValueError, match="cands"):
        OneHot(space)([(0, 2, 0)])


def test_path_encoding_counts_paths_by_operations():
    X = NB201Path()([CELL, (3,) * 6, (0,) * 6])
    assert X.shape == (3, 84)
    # CELL keeps two input->output paths: skip->conv3 (0->1->3) and skip->conv1->pool (0->1->2->3)
    assert np.flatnonzero(X[0]).tolist() == [4 + 0 * 4 + 2, 20 + 0 * 16 + 1 * 4 + 3]
    # all conv3: one path of each length 1 and 3, two of length 2
    assert X[1, 2] == 1 and X[1, 4 + 2 * 4 + 2] == 2 and X[1, 20 + 2 * 16 + 2 * 4 + 2] == 1
    assert X[1].sum() == 4 and X[2].sum() == 0


def test_operation_graph_drops_none_edges():
    A, T = op_graph([CELL])
    # op nodes 1..6 are the edges; node 0 input, 7 output
    links = {(int(i), int(j)) for i, j in zip(*np.nonzero(A[0]))}
    assert links == {(0, 1), (1, 3), (1, 5), (3, 6), (5, 7), (6, 7)}
    assert T[0].argmax(1).tolist() == [0, 2 + 1, 2 + 0, 2 + 2, 2 + 0, 2 + 3, 2 + 4, 1]
    adj = NB201Adjacency()([CELL])
    assert adj.shape == (1, 28 + 30) and adj[0, :28].sum() == len(links)
    g = NB201Graph()([CELL])
    assert g.shape == (1, 64 + 56) and np.array_equal(g[0, :64], A[0].ravel())


def test_nb201_encodings_reject_other_spaces_and_bad_cells():
    with pytest.raises(ValueError, match="space"):
        NB201Path(DiscreteSpace([5] * 6))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cands"):
        NB201Path()([(5, 0, 0, 0, 0, 0)])
    with pytest.raises(ValueError, match="encoding"):
        make_encoding("path", DiscreteSpace([5] * 6))
    with pytest.raises(ValueError, match="encoding: expected one of"):
        make_encoding("paths", NB201Space())


def test_features_and_concat():
    space = NB201Space()
    f = Features(lambda cs: [sum(c) for c in cs], name="opsum")
    with pytest.raises(ValueError, match="opsum: dim is unknown"):
        _ = f.dim
    X = Concat([OneHot(space), f])([CELL, (0,) * 6])
    assert X.shape == (2, 31) and X[:, -1].tolist() == [10, 0]
    assert make_encoding("auto", space, features=f).dim == 84 + 1
    with pytest.raises(ValueError, match="opsum: returned 1 rows for 2"):
        Features(lambda cs: [1.0], name="opsum")([CELL, CELL])
    with pytest.raises(ValueError, match="nan: expected finite"):
        Features(lambda cs: [np.nan] * len(cs), name="nan")([CELL])
    with pytest.raises(ValueError, match="fn: expected a callable"):
        Features(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="features: expected Encoding"):
        make_encoding("onehot", space, features=[3])  # type: ignore[list-item]


def test_nb201_table_features_read_the_table():
    table = NB201Table.load()
    cells = NB201Space().sample(np.random.default_rng(0), 4)
    idx = table.indices_of(cells)
    lf = low_fidelity_features("cifar10")(cells)
    assert np.array_equal(lf[:, 0], table.columns["acc12_cifar10_val"][idx])
    assert np.array_equal(lf[:, 1], table.columns["acc12_cifar10_test"][idx])
    zc = table_proxy_features("cifar10", ("zen", "params"))(cells)
    assert np.allclose(zc[:, 1], np.log(table.columns["params_M_c10"][idx]))
    with pytest.raises(ValueError, match="column"):
        nb201_table_features(["no_such_column"])
    with pytest.raises(ValueError, match="proxies"):
        table_proxy_features(proxies=("synflow",))
    with pytest.raises(ValueError, match="splits"):
        low_fidelity_features(splits=("train",))


def test_predictor_input_errors():
    rf = RandomForestPredictor(n_estimators=5)
    X = np.random.default_rng(0).random((10, 3))
    with pytest.raises(ValueError, match="must be fit"):
        rf.predict(X)
    with pytest.raises(ValueError, match=r"y: expected shape \(10,\)"):
        rf.fit(X, np.zeros(9))
    with pytest.raises(ValueError, match="y: expected finite"):
        rf.fit(X, np.full(10, np.nan))
    with pytest.raises(ValueError, match="X: expected a 2-d"):
        rf.fit(X[0], np.zeros(3))
    with pytest.raises(ValueError, match="at least 2 training rows"):
        rf.fit(X[:1], np.zeros(1))
    rf.fit(X, X.sum(1), seed=0)
    with pytest.raises(ValueError, match="X: expected 3 features per row, got 2"):
        rf.predict(X[:, :2])
    lgb = make_predictor("lgb", NB201Space(), n_estimators=5)
    lgb.fit(NB201Space().sample(np.random.default_rng(0), 10), np.arange(10.0), seed=0)
    with pytest.raises(ValueError, match="lgb gives no uncertainty"):
        lgb.predict_dist([CELL])


def test_make_predictor_errors():
    with pytest.raises(ValueError, match="model: expected one of"):
        make_predictor("svm")
    with pytest.raises(ValueError, match="gcn model reads the 'graph'"):
        make_predictor("gcn", encoding="path")
    with pytest.raises(ValueError, match="members: expected an int >= 2"):
        make_predictor("mlp", members=1)
    with pytest.raises(ValueError, match="lr: expected a number > 0"):
        make_predictor("mlp", lr=0)
    with pytest.raises(ValueError, match="subsample"):
        make_predictor("lgb", subsample=1.5)
