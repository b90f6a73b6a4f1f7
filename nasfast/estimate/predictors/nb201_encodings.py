"""NAS-Bench-201 cells as graphs: adjacency, BANANAS path counts, and the GCN's input.

The cell's operations sit on its 6 edges. For the graph encodings each edge becomes a node
(operations on nodes, as in Wen et al., "Neural Predictor for NAS", ECCV 2020): 8 nodes = the
cell input, the 6 operation nodes in official edge order, the cell output. An operation node feeds
every operation node leaving its edge's target (or the output); a ``none`` edge carries nothing,
so its node has no links. The path encoding (White et al., "BANANAS", AAAI 2021) counts the
input-to-output paths of the cell by their sequence of operations (``none`` cuts a path): 4 + 16 +
64 = 84 features for paths of 1, 2 and 3 operations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasfast.estimate.predictors.encodings import Encoding, check_candidates
from nasfast.spaces.nb201 import EDGES, OPS, NB201Space

N_NODES = len(EDGES) + 2
N_NODE_TYPES = len(OPS) + 2  # input, output, then the operations
_OUT = N_NODES - 1
_NONE = OPS.index("none")


def _op_graph_links() -> list[tuple[int, int]]:
    links = []
    for e, (dst, src) in enumerate(EDGES):
        if src == 0:
            links.append((0, e + 1))
        if dst == 3:
            links.append((e + 1, _OUT))
        for f, (_, src2) in enumerate(EDGES):
            if src2 == dst:
                links.append((e + 1, f + 1))
    return links


_LINKS = _op_graph_links()


def _routes() -> list[list[int]]:
    """Edge indices along every route from cell node 0 to node 3."""
    out: list[list[int]] = []

    def walk(node: int, edges: list[int]) -> None:
        if node == 3:
            out.append(edges)
            return
        for e, (dst, src) in enumerate(EDGES):
            if src == node:
                walk(dst, edges + [e])

    walk(0, [])
    return out


_ROUTES = _routes()
_N_REAL_OPS = len(OPS) - 1
_PATH_OFFSETS = {1: 0, 2: _N_REAL_OPS, 3: _N_REAL_OPS + _N_REAL_OPS**2}
N_PATHS = _N_REAL_OPS + _N_REAL_OPS**2 + _N_REAL_OPS**3


def op_graph(cands: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(adjacency (n, 8, 8), node types one-hot (n, 8, 7)) of op-code candidates."""
    C = np.asarray(cands, dtype=np.int64).reshape(-1, len(EDGES))
    n = len(C)
    A = np.zeros((n, N_NODES, N_NODES))
    alive = np.ones((n, N_NODES), dtype=bool)
    alive[:, 1:_OUT] = C != _NONE
    for i, j in _LINKS:
        A[:, i, j] = alive[:, i] & alive[:, j]
    T = np.zeros((n, N_NODES, N_NODE_TYPES))
    T[:, 0, 0] = 1.0
    T[:, _OUT, 1] = 1.0
    T[np.arange(n)[:, None], np.arange(1, _OUT)[None, :], 2 + C] = 1.0
    return A, T


class _NB201Encoding(Encoding):
    def __init__(self, space: NB201Space | None = None) -> None:
        if space is not None and not isinstance(space, NB201Space):
            raise ValueError(
                f"space: {self.name} encodes NAS-Bench-201 cells, got {type(space).__name__}"
            )
        self.space = space or NB201Space()


class NB201Adjacency(_NB201Encoding):
    """Upper triangle of the operation graph's adjacency (28) + one-hot operations (6 x 5)."""

    name = "adjacency"

    @property
    def dim(self) -> int:
        return N_NODES * (N_NODES - 1) // 2 + len(EDGES) * len(OPS)

    def __call__(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        cands = check_candidates(self.space, cands)
        A, _ = op_graph(cands)
        iu = np.triu_indices(N_NODES, k=1)
        return np.concatenate([A[:, iu[0], iu[1]], self.space.one_hot(cands)], axis=1)


class NB201Path(_NB201Encoding):
    """Counts of input-to-output paths per sequence of operations (84 features)."""

    name = "path"

    @property
    def dim(self) -> int:
        return N_PATHS

    def __call__(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        C = np.asarray(check_candidates(self.space, cands), dtype=np.int64).reshape(-1, len(EDGES))
        X = np.zeros((len(C), N_PATHS))
        rows = np.arange(len(C))
        for route in _ROUTES:
            ops = C[:, route]
            ok = (ops != _NONE).all(axis=1)
            code = np.zeros(len(C), dtype=np.int64)
            for k in range(len(route)):
                code = code * _N_REAL_OPS + (ops[:, k] - 1)
            np.add.at(X, (rows[ok], _PATH_OFFSETS[len(route)] + code[ok]), 1.0)
        return X


class NB201Graph(_NB201Encoding):
    """Flattened adjacency (8 x 8) then node types (8 x 7): the input of :class:`GCNPredictor`."""

    name = "graph"
    graph_shape = (N_NODES, N_NODE_TYPES)

    @property
    def dim(self) -> int:
        return N_NODES * N_NODES + N_NODES * N_NODE_TYPES

    def __call__(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        A, T = op_graph(check_candidates(self.space, cands))
        return np.concatenate([A.reshape(len(A), -1), T.reshape(len(T), -1)], axis=1)
