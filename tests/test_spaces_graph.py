"""Graph (DAG) cell spaces: validity, pruning, isomorphism hash, mutation, crossover,
encodings, deduplicated search with every strategy, frozen cells."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import torch
from torch import nn

from nasfast.search import STRATEGIES, make_strategy, minimize
from nasfast.search.problem import Problem
from nasfast.spaces.graph import GraphSpace, canonical_form, prune

OPS = ["conv3x3", "conv1x1", "maxpool3x3"]


@pytest.fixture(scope="module")
def space() -> GraphSpace:
    return GraphSpace(OPS)


def _cand(space, edges, ops):
    n = space.max_nodes
    A = np.zeros((n, n), dtype=np.uint8)
    for i, j in edges:
        A[i, j] = 1
    return space.candidate(A, ["input", *ops, "output"])


def test_layout_and_size(space):
    assert space.n_edge_bits == 21 and space.n_positions == 26
    assert space.size == 2**21 * 3**5


def test_validity_needs_a_path_and_at_most_max_edges(space):
    ops = ["conv3x3"] * 5
    assert space.is_valid(_cand(space, [(0, 1), (1, 6)], ops))
    no_path = [0] * 26
    for e in [(0, 1), (2, 6)]:  # node 2 reaches the output, but nothing reaches node 2
        no_path[space.edge_pairs.index(e)] = 1
    assert not space.is_valid(tuple(no_path))
    ten = [(0, j) for j in range(1, 7)] + [(1, 2), (2, 3), (3, 4), (4, 5)]
    too_many = [0] * 26
    for e in ten:
        too_many[space.edge_pairs.index(e)] = 1
    assert not space.is_valid(tuple(too_many))
    rng = np.random.default_rng(0)
    assert all(space.is_valid(c) for c in space.sample(rng, 50))


def test_dangling_nodes_are_pruned_and_do_not_change_the_hash(space):
    ops = ["conv3x3", "conv1x1", "maxpool3x3", "conv3x3", "conv3x3"]
    base = _cand(space, [(0, 1), (1, 6)], ops)
    dangling = _cand(space, [(0, 1), (1, 6), (0, 2), (3, 6), (4, 5)], ops)
    A, labels = space.pruned(dangling)
    assert labels == ["input", "conv3x3", "output"] and A.sum() == 2
    assert space.key(base) == space.key(dangling)
    assert space.describe(dangling) == "input|conv3x3|output:0>1,1>2"
    assert prune(np.zeros((3, 3), dtype=np.uint8), ["input", "x", "output"]) is None


def test_hash_is_invariant_under_renumbering(space):
    rng = np.random.default_rng(1)
    for c in space.sample(rng, 30):
        A, labels = space.graph(c)
        n = A.shape[0]
        for perm in itertools.islice(itertools.permutations(range(1, n - 1)), 0, 720, 37):
            order = [0, *perm, n - 1]
            P = A[np.ix_(order, order)]
            if np.tril(P).any():
                continue
            other = space.candidate(P, [labels[i] for i in order])
            assert space.key(other) == space.key(c)


def _nx_graph(space, c):
    A, labels = space.pruned(c)
    g = nx.DiGraph()
    for i, lab in enumerate(labels):
        g.add_node(i, label=lab)
    g.add_edges_from((int(i), int(j)) for i, j in zip(*np.nonzero(A), strict=True))
    return g


def test_hash_classes_are_exactly_the_isomorphism_classes():
    small = GraphSpace(["a", "b"], max_nodes=4, max_edges=6)
    match = nx.algorithms.isomorphism.categorical_node_match("label", None)
    classes: dict[str, list] = {}
    for c in small.enumerate():
        classes.setdefault(small.key(c), []).append(_nx_graph(small, c))
    assert 10 < len(classes) < small.size
    for members in classes.values():  # one class: all isomorphic
        assert all(nx.is_isomorphic(members[0], g, node_match=match) for g in members[1:])
    reps = [members[0] for members in classes.values()]
    for g, h in itertools.combinations(reps, 2):  # different classes: never isomorphic
        assert not nx.is_isomorphic(g, h, node_match=match)


def test_canonical_form_differs_by_op_labels():
    A = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=np.uint8)
    assert canonical_form(A, ["input", "a", "output"]) != canonical_form(
        A, ["input", "b", "output"]
    )


def test_mutation_changes_edges_or_ops_and_stays_valid(space):
    rng = np.random.default_rng(3)
    edge_changes = op_changes = 0
    for c in space.sample(rng, 40):
        m = space.mutate(c, rng)
        assert space.is_valid(m) and space.key(m) != space.key(c)
        edge_changes += m[:21] != c[:21]
        op_changes += m[21:] != c[21:]
    assert edge_changes > 0 and op_changes > 0


def test_crossover_takes_each_node_from_a_parent(space):
    rng = np.random.default_rng(4)
    for _ in range(20):
        a, b = space.sample(rng, 2)
        child = space.crossover(a, b, rng)
        assert space.is_valid(child)
        Aa, Ab, Ac = space.graph(a)[0], space.graph(b)[0], space.graph(child)[0]
        for j in range(1, space.max_nodes):
            assert (Ac[:, j] == Aa[:, j]).all() or (Ac[:, j] == Ab[:, j]).all()


def test_neighbors_are_valid_distinct_classes(space):
    c = space.sample(np.random.default_rng(5))[0]
    nbrs = space.neighbors(c)
    keys = [space.key(n) for n in nbrs]
    assert nbrs and len(set(keys)) == len(keys) and space.key(c) not in keys
    assert all(space.is_valid(n) for n in nbrs)


def test_path_encoding_of_a_known_cell(space):
    # input -> conv1x1 -> output, input -> output, input -> conv3x3 -> maxpool -> output
    c = _cand(
        space,
        [(0, 1), (1, 6), (0, 6), (0, 2), (2, 3), (3, 6)],
        ["conv1x1", "conv3x3", "maxpool3x3", "conv3x3", "conv3x3"],
    )
    X = space.path_encoding([c])
    assert X.shape == (1, 1 + 3 + 9 + 27 + 81 + 243)
    # length 0 at 0; length 1 (conv1x1 = 1) at 1 + 1; length 2 (conv3x3=0, maxpool=2) at 4 + 2
    assert np.flatnonzero(X[0]).tolist() == [0, 2, 6]


def test_adjacency_encoding_is_isomorphism_aware_for_pruned_nodes(space):
    ops = ["conv3x3", "conv1x1", "maxpool3x3", "conv3x3", "conv3x3"]
    a = _cand(space, [(0, 1), (1, 6)], ops)
    b = _cand(space, [(0, 1), (1, 6), (4, 5)], ops)  # a dangling edge
    X = space.adjacency_encoding([a, b])
    assert X.shape == (2, 21 + 5 * 3)
    np.testing.assert_array_equal(X[0], X[1])
    assert X[0, 21:24].tolist() == [1.0, 0.0, 0.0] and X[0, 24:].sum() == 0


def _score(space):
    def objective(c):
        A, labels = space.pruned(c)
        return {"convs": float(sum(lab == "conv3x3" for lab in labels)), "edges": float(A.sum())}

    return objective


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_runs_on_the_graph_space(space, name):
    f = space.deduplicated(_score(space))
    objectives = ["max:convs", "min:edges"] if name == "nsga2" else ["max:convs"]
    kwargs = {
        "rea": {"population_size": 4, "sample_size": 2},
        "nsga2": {"pop_size": 4},
        "bananas": {"n_initial": 4, "batch_size": 2},
        "naswot": {"proxy": lambda cands: [sum(c) for c in cands], "n_samples": 50},
    }
    res = minimize(
        Problem(space, f, objectives), make_strategy(name, **kwargs.get(name, {})), 10, 0
    )
    assert res.n_evals == 10 and all(space.is_valid(e.candidate) for e in res.history)
    assert f.calls == len({space.key(e.candidate) for e in res.history}) <= 10


def test_isomorphic_duplicates_are_evaluated_once(space):
    calls = []
    f = space.deduplicated(lambda c: calls.append(c) or {"v": 1.0})
    ops = ["conv3x3", "conv1x1", "maxpool3x3", "conv3x3", "conv3x3"]
    a = _cand(space, [(0, 1), (0, 2), (1, 6), (2, 6)], ops)
    swapped = ["conv1x1", "conv3x3", "maxpool3x3", "conv3x3", "conv3x3"]
    b = _cand(space, [(0, 1), (0, 2), (1, 6), (2, 6)], swapped)  # the two branches swapped
    assert a != b
    assert f(a) == f(b) == {"v": 1.0}
    assert len(calls) == 1 and f.calls == 1


def test_frozen_cell_is_a_plain_module_computing_the_graph(space):
    ops = {
        "conv3x3": lambda: nn.Conv2d(2, 2, 3, padding=1),
        "conv1x1": lambda: nn.Conv2d(2, 2, 1),
        "maxpool3x3": lambda: nn.MaxPool2d(3, 1, 1),
    }
    c = _cand(
        space,
        [(0, 1), (0, 2), (1, 3), (2, 3), (0, 6), (3, 6)],
        ["conv3x3", "conv1x1", "maxpool3x3", "conv3x3", "conv3x3"],
    )
    torch.manual_seed(0)
    cell = space.freeze(c, ops)
    assert not [m for m in cell.modules() if type(m).__module__.startswith("nasfast")]
    x = torch.randn(2, 2, 5, 5)
    n1, n2 = cell.node1(x), cell.node2(x)
    expect = x + cell.node3(n1 + n2)
    torch.testing.assert_close(cell(x), expect)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: GraphSpace([]), "ops: expected distinct op names"),
        (lambda: GraphSpace(["a", "a"]), "ops: expected distinct op names"),
        (lambda: GraphSpace(["input"]), "reserved node labels"),
        (lambda: GraphSpace(["a"], max_nodes=1), "max_nodes: expected an int >= 2"),
        (lambda: GraphSpace(["a"], max_edges=0), "max_edges: expected an int >= 1"),
    ],
)
def test_bad_spaces_raise_one_line_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_cells_raise_one_line_errors(space):
    lower = np.zeros((3, 3), dtype=np.uint8)
    lower[1, 0] = 1
    with pytest.raises(ValueError, match="upper-triangular"):
        space.candidate(lower, ["input", "conv3x3", "output"])
    with pytest.raises(ValueError, match="unknown op 'conv7'"):
        space.candidate(np.eye(3, k=1), ["input", "conv7", "output"])
    with pytest.raises(ValueError, match="no factory for op"):
        space.freeze(space.sample(np.random.default_rng(0))[0], {"conv3x3": nn.Identity})
