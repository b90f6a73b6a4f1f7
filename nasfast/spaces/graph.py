"""Graph (DAG) cell spaces in the style of NAS-Bench-101 (Ying et al., ICML 2019).

A cell has up to ``max_nodes`` nodes in topological order: node 0 is the input, the last node the
output, each node in between applies one op from a user list. The adjacency matrix is upper
triangular (an edge i -> j only for i < j) with at most ``max_edges`` edges. A cell is valid when
the output is reachable from the input; nodes off every input-to-output path are pruned.

As a :class:`~nasfast.spaces.DiscreteSpace` a candidate is the upper triangle of the adjacency
matrix (row by row, 0/1) followed by the op index of each interior node, so every strategy runs
on it; :meth:`GraphSpace.mutate` and :meth:`GraphSpace.crossover` are graph-aware, and
:meth:`GraphSpace.key` is an isomorphism-invariant hash: two cells that compute the same function
(the same pruned labelled DAG up to renumbering) share it, and :meth:`GraphSpace.deduplicated`
evaluates each class once.
"""

from __future__ import annotations

import hashlib
import itertools
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nasfast.spaces.discrete import Candidate, DiscreteSpace

Graph = tuple[np.ndarray, list[str]]  # (adjacency [n, n] uint8, node labels incl. input/output)
INPUT, OUTPUT = "input", "output"


def _reach(A: np.ndarray, start: int, forward: bool) -> np.ndarray:
    n = A.shape[0]
    seen = np.zeros(n, dtype=bool)
    seen[start] = True
    stack = [start]
    M = A if forward else A.T
    while stack:
        i = stack.pop()
        for j in np.flatnonzero(M[i]):
            if not seen[j]:
                seen[j] = True
                stack.append(int(j))
    return seen


def prune(A: np.ndarray, labels: Sequence[str]) -> Graph | None:
    """The cell without nodes off every input-to-output path (None: output unreachable)."""
    A = np.asarray(A, dtype=np.uint8)
    n = A.shape[0]
    keep = _reach(A, 0, True) & _reach(A, n - 1, False)
    if not keep[n - 1]:
        return None
    idx = np.flatnonzero(keep)
    return A[np.ix_(idx, idx)].copy(), [labels[i] for i in idx]


def canonical_form(A: np.ndarray, labels: Sequence[str]) -> tuple:
    """The smallest (labels, upper triangle) over every renumbering of the interior nodes that
    keeps the matrix upper triangular: equal exactly for isomorphic labelled DAGs."""
    n = A.shape[0]
    best = None
    inner = list(range(1, n - 1))
    tri = np.triu_indices(n, 1)
    for perm in itertools.permutations(inner):
        order = [0, *perm, n - 1]
        P = A[np.ix_(order, order)]
        if np.tril(P).any():
            continue
        form = (tuple(labels[i] for i in order), tuple(P[tri].tolist()))
        if best is None or form < best:
            best = form
    return (n, *best)


def graph_hash(A: np.ndarray, labels: Sequence[str]) -> str:
    """Isomorphism-invariant hash of a cell (of its pruned graph); ``"invalid"`` when the output
    is unreachable."""
    pruned = prune(A, labels)
    if pruned is None:
        return "invalid"
    return hashlib.sha256(repr(canonical_form(*pruned)).encode()).hexdigest()[:32]


class GraphSpace(DiscreteSpace):
    """NAS-Bench-101-style cells over ``ops`` (e.g. ``["conv3x3", "conv1x1", "maxpool3x3"]``)."""

    def __init__(self, ops: Sequence[str], max_nodes: int = 7, max_edges: int = 9) -> None:
        ops = list(ops)
        if not ops or len(set(ops)) != len(ops) or not all(isinstance(o, str) for o in ops):
            raise ValueError(f"ops: expected distinct op names, got {ops!r}")
        if {INPUT, OUTPUT} & set(ops):
            raise ValueError(f"ops: {INPUT!r} and {OUTPUT!r} are reserved node labels")
        if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 2:
            raise ValueError(f"max_nodes: expected an int >= 2, got {max_nodes!r}")
        if isinstance(max_edges, bool) or not isinstance(max_edges, int) or max_edges < 1:
            raise ValueError(f"max_edges: expected an int >= 1, got {max_edges!r}")
        self.ops, self.max_nodes, self.max_edges = ops, max_nodes, max_edges
        n = max_nodes
        self.edge_pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        self.n_edge_bits = len(self.edge_pairs)
        names = [f"{i}->{j}" for i, j in self.edge_pairs] + [f"op{k}" for k in range(1, n - 1)]
        choices: list[Any] = [2] * self.n_edge_bits + [ops] * (n - 2)
        super().__init__(choices, names=names, constraints=[self._valid], candidates_as="indices")

    # ------------------------------------------------------------------ graphs
    def graph(self, c: Sequence[int]) -> Graph:
        """(adjacency matrix, node labels) of a candidate, unpruned."""
        n = self.max_nodes
        A = np.zeros((n, n), dtype=np.uint8)
        for b, (i, j) in zip(c[: self.n_edge_bits], self.edge_pairs, strict=True):
            A[i, j] = int(b)
        labels = [INPUT, *(self.ops[int(o)] for o in c[self.n_edge_bits :]), OUTPUT]
        return A, labels

    def candidate(self, A: np.ndarray, labels: Sequence[str]) -> Candidate:
        """The candidate of a cell given as a matrix and node labels (padded with unconnected
        nodes when it has fewer than ``max_nodes``)."""
        A = np.asarray(A)
        n, N = A.shape[0], self.max_nodes
        if A.shape != (n, n) or not 2 <= n <= N or len(labels) != n:
            raise ValueError(f"A: expected a square matrix of 2..{N} nodes with a label each")
        if labels[0] != INPUT or labels[-1] != OUTPUT:
            raise ValueError(f"labels: expected {INPUT!r} first and {OUTPUT!r} last")
        bad = [x for x in labels[1:-1] if x not in self.ops]
        if bad:
            raise ValueError(f"labels: unknown op {bad[0]!r}; expected one of {self.ops}")
        if np.tril(A).any():
            raise ValueError("A: expected an upper-triangular matrix (edges i -> j with i < j)")
        full = np.zeros((N, N), dtype=np.uint8)
        idx = [*range(n - 1), N - 1]  # the output stays last; padding nodes sit before it
        full[np.ix_(idx, idx)] = (A != 0).astype(np.uint8)
        ops = [self.ops.index(x) for x in labels[1:-1]] + [0] * (N - n)
        return self.validate([int(full[i, j]) for i, j in self.edge_pairs] + ops, name="A")

    def _valid(self, c: Candidate) -> bool:
        if sum(c[: self.n_edge_bits]) > self.max_edges:
            return False
        A, _ = self.graph(c)
        return bool(_reach(A, 0, True)[-1])

    def pruned(self, c: Sequence[int]) -> Graph:
        out = prune(*self.graph(c))
        if out is None:
            raise ValueError(f"candidate: the output is unreachable in {list(c)}")
        return out

    def key(self, c: Sequence[int]) -> str:
        """Isomorphism-invariant hash of the candidate's cell."""
        return graph_hash(*self.graph(c))

    def canonical(self, c: Sequence[int]) -> str:
        return self.key(c)

    def describe(self, c: Sequence[int]) -> str:
        A, labels = self.pruned(c)
        edges = ",".join(f"{i}>{j}" for i, j in zip(*np.nonzero(A), strict=True))
        return f"{'|'.join(labels)}:{edges}"

    # ------------------------------------------------------------------ variation
    def mutate(self, c: Sequence[int], rng: np.random.Generator, n_changes: int = 1) -> Candidate:
        """Flip each edge with probability ``n_changes / n_edges`` and redraw each op with
        probability ``n_changes / n_interior`` (NAS-Bench-101's mutation), until the result is
        valid and not isomorphic to ``c``."""
        c = tuple(int(v) for v in c)
        own = self.key(c)
        n_ops = self.max_nodes - 2
        for _ in range(1000):
            new = list(c)
            p_edge = n_changes / self.n_edge_bits
            for k in range(self.n_edge_bits):
                if rng.random() < p_edge:
                    new[k] = 1 - new[k]
            if n_ops and len(self.ops) > 1:
                for k in range(self.n_edge_bits, len(new)):
                    if rng.random() < n_changes / n_ops:
                        new[k] = (new[k] + int(rng.integers(1, len(self.ops)))) % len(self.ops)
            cand = tuple(new)
            if cand != c and self._valid(cand) and self.key(cand) != own:
                return cand
        return c

    def crossover(self, a: Sequence[int], b: Sequence[int], rng: np.random.Generator) -> Candidate:
        """Graph crossover: each node after the input takes its incoming edges and its op from
        ``a`` or ``b`` (both with equal probability); retried until valid."""
        Aa, _ = self.graph(a)
        Ab, _ = self.graph(b)
        n = self.max_nodes
        for _ in range(100):
            take_b = rng.random(n) < 0.5
            A = np.where(take_b[None, :], Ab, Aa)
            ops = [b[self.n_edge_bits + k - 1] if take_b[k] else a[self.n_edge_bits + k - 1]
                   for k in range(1, n - 1)]  # fmt: skip
            cand = tuple([int(A[i, j]) for i, j in self.edge_pairs] + [int(o) for o in ops])
            if self._valid(cand):
                return cand
        return tuple(int(v) for v in a)

    def neighbors(self, c: Sequence[int]) -> list[Candidate]:
        """Valid one-edge and one-op changes of ``c``, one per isomorphism class (not ``c``'s)."""
        seen = {self.key(c)}
        out = []
        for cand in super().neighbors(c):
            k = self.key(cand)
            if k not in seen:
                seen.add(k)
                out.append(cand)
        return out

    # ------------------------------------------------------------------ encodings
    def adjacency_encoding(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        """Upper triangle of the pruned cell's matrix (padded to ``max_nodes``) and a one-hot op
        per interior node, shape (len(cands), n_edges + (max_nodes - 2) * len(ops))."""
        rows = []
        for c in cands:
            A, labels = self.pruned(c)
            std = self.graph(self.candidate(A, labels))
            bits = [float(std[0][i, j]) for i, j in self.edge_pairs]
            hot = np.zeros((self.max_nodes - 2, len(self.ops)))
            for k, lab in enumerate(std[1][1:-1]):
                if k < A.shape[0] - 2:
                    hot[k, self.ops.index(lab)] = 1.0
            rows.append(bits + hot.ravel().tolist())
        return np.array(rows, dtype=np.float64).reshape(len(rows), -1)

    def path_encoding(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        """Which input-to-output paths (as sequences of ops) the cell has: one indicator per
        possible op sequence of length 0..max_nodes-2 (White et al., BANANAS, AAAI 2021)."""
        k = len(self.ops)
        lengths = range(self.max_nodes - 1)
        offsets = np.cumsum([0] + [k**length for length in lengths])
        X = np.zeros((len(cands), int(offsets[-1])))
        for r, c in enumerate(cands):
            A, labels = self.pruned(c)
            for path in _paths(A, 0, A.shape[0] - 1):
                ops = [self.ops.index(labels[i]) for i in path[1:-1]]
                idx = 0
                for o in ops:
                    idx = idx * k + o
                X[r, offsets[len(ops)] + idx] = 1.0
        return X

    # ------------------------------------------------------------------ evaluation helpers
    def deduplicated(self, objective: Callable[[Candidate], Any]) -> Callable[[Candidate], Any]:
        """``objective`` called once per isomorphism class; an isomorphic candidate gets the
        stored result. The wrapper's ``calls`` counts the real calls."""

        cache: dict[str, Any] = {}

        def wrapped(c: Candidate) -> Any:
            k = self.key(c)
            if k not in cache:
                cache[k] = objective(c)
                wrapped.calls += 1
            return dict(cache[k]) if isinstance(cache[k], dict) else cache[k]

        wrapped.calls = 0
        return wrapped

    def freeze(self, c: Sequence[int], ops: dict[str, Callable[[], Any]]):
        """The cell as a plain ``torch.fx.GraphModule``: each interior node applies its op to the
        sum of its inputs, the output sums its inputs. ``ops`` maps every op name to a factory
        of the module (e.g. ``{"conv3x3": lambda: nn.Conv2d(C, C, 3, padding=1)}``)."""
        import torch
        from torch import nn

        missing = [o for o in self.ops if o not in ops]
        if missing:
            raise ValueError(f"ops: no factory for op {missing[0]!r}")
        A, labels = self.pruned(c)
        root = nn.Module()
        g = torch.fx.Graph()
        values = {0: g.placeholder("x")}
        for j in range(1, A.shape[0]):
            ins = [values[i] for i in np.flatnonzero(A[:, j])]
            total = ins[0]
            for t in ins[1:]:
                total = g.call_function(operator.add, (total, t))
            if j == A.shape[0] - 1:
                g.output(total)
                break
            name = f"node{j}"
            root.add_module(name, ops[labels[j]]())
            values[j] = g.call_module(name, (total,))
        return torch.fx.GraphModule(root, g, class_name="GraphCell")


def _paths(A: np.ndarray, i: int, out: int) -> list[list[int]]:
    if i == out:
        return [[out]]
    return [[i, *p] for j in np.flatnonzero(A[i]) for p in _paths(A, int(j), out)]
