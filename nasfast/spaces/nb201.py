"""The NAS-Bench-201 cell space: 4 nodes, 6 edges, 5 operations (15,625 cells).

Three forms of one cell, converted both ways:

- op codes: 6 ints in the official edge order (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2), each
  0=none 1=skip_connect 2=nor_conv_1x1 3=nor_conv_3x3 4=avg_pool_3x3;
- the official arch string, e.g. ``|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|``;
- the official benchmark index (0..15624), the row of the NAS-Bench-201 table. The index order
  is the benchmark's own, not computable from the ops: a space that reads or writes indices is
  given the table (any :class:`CellIndex`, e.g. ``nasfast.tabular.NB201Table``), as NASLib
  passes its ``dataset_api``; this module never imports the table.

This module is the one definition of the cell: the supernet (``nasfast.nn``), the table
(``nasfast.tabular``) and the one-shot search read their op names, codes and edges from here.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Protocol

from nasfast.spaces.discrete import Candidate, DiscreteSpace

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NONE, SKIP, CONV1, CONV3, POOL = range(len(OPS))  # op codes: positions in OPS
# (to_node, from_node) for each of the 6 edges, in the order of the official arch string.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
N_EDGES = len(EDGES)
N_CELLS = len(OPS) ** N_EDGES
_OP_CODE = {op: i for i, op in enumerate(OPS)}


class CellIndex(Protocol):
    """The benchmark's index order of the cells (``nasfast.tabular.NB201Table`` is one)."""

    def index_of(self, ops: Sequence[int]) -> int: ...

    def ops_of(self, index: int) -> tuple[int, ...]: ...


def ops_to_arch_str(ops: Sequence[int]) -> str:
    """Op codes -> official arch string."""
    ops = check_ops(ops)
    nodes = []
    for node in (1, 2, 3):
        parts = [f"{OPS[ops[e]]}~{src}" for e, (dst, src) in enumerate(EDGES) if dst == node]
        nodes.append("|" + "|".join(parts) + "|")
    return "+".join(nodes)


def arch_str_to_ops(arch: str) -> Candidate:
    """Official arch string -> op codes (ValueError naming ``arch`` when malformed)."""
    if not isinstance(arch, str):
        raise ValueError(f"arch: expected an arch string, got {type(arch).__name__}")
    nodes = arch.split("+")
    if len(nodes) != 3:
        raise ValueError(f"arch: expected 3 nodes separated by '+', got {arch!r}")
    ops: list[int] = []
    for node, text in enumerate(nodes, start=1):
        if not (text.startswith("|") and text.endswith("|")):
            raise ValueError(f"arch: node {node} must be written |op~src|...|, got {text!r}")
        parts = text[1:-1].split("|")
        if len(parts) != node:
            raise ValueError(f"arch: node {node} expects {node} inputs, got {text!r}")
        for src, part in enumerate(parts):
            op, _, s = part.partition("~")
            if op not in _OP_CODE:
                raise ValueError(f"arch: unknown op {op!r}; expected one of {', '.join(OPS)}")
            if s != str(src):
                raise ValueError(f"arch: node {node} input {src} written {part!r}")
            ops.append(_OP_CODE[op])
    return tuple(ops)


def check_ops(ops: Sequence[int]) -> Candidate:
    """``ops`` as a tuple of 6 op codes in 0..4 (ValueError naming ``ops`` otherwise)."""
    try:
        out = tuple(int(v) for v in ops)
    except (TypeError, ValueError):
        raise ValueError(f"ops: expected 6 op codes, got {ops!r}") from None
    if len(out) != N_EDGES or not all(0 <= v < len(OPS) for v in out):
        raise ValueError(f"ops: expected 6 op codes in 0..4, got {list(out)}")
    return out


class NB201Space(DiscreteSpace):
    """The NAS-Bench-201 space as a :class:`DiscreteSpace`: 6 edges x 5 ops.

    Candidates are op-code tuples; :meth:`describe` gives the official arch string and
    :meth:`parse` reads an arch string, a 6-digit op string or an official index. Official
    indices need ``index``, the benchmark's index order (e.g. ``NB201Table.load()``).
    """

    def __init__(self, index: CellIndex | None = None) -> None:
        super().__init__(
            [OPS] * N_EDGES, names=[f"{d}<-{s}" for d, s in EDGES], candidates_as="indices"
        )
        self.index_order = index

    def canonical(self, c: Sequence[int]) -> str:
        """The function the cell computes, up to equivalences that hold for any weights (see
        :func:`cell_expression`): 5,545 classes among the 15,625 cells."""
        return cell_expression(c)

    def count_distinct(self) -> int:
        return n_distinct_cells()

    def describe(self, c: Sequence[int]) -> str:
        return ops_to_arch_str(c)

    def parse(self, text: str | int) -> Candidate:
        if isinstance(text, int):
            return self._order("arch").ops_of(text)
        text = text.strip()
        if text.startswith("|"):
            return arch_str_to_ops(text)
        if len(text) == N_EDGES and text.isdigit():
            return check_ops([int(ch) for ch in text])
        if text.isdigit():
            return self._order("arch").ops_of(int(text))
        raise ValueError(f"arch: expected an arch string, 6 op digits or an index, got {text!r}")

    def bench_index(self, c: Sequence[int]) -> int:
        return self._order("c").index_of(check_ops(c))

    def _order(self, name: str) -> CellIndex:
        if self.index_order is None:
            raise ValueError(
                f"{name}: official indices need the table's order, e.g. "
                "NB201Space(NB201Table.load())"
            )
        return self.index_order


def cell_expression(ops: Sequence[int]) -> str:
    """The output of the cell as an expression, equal for cells that compute the same function
    for every choice of weights:

    - a ``none`` edge adds nothing; ``skip_connect`` passes its input's terms on unchanged;
    - a node whose every input adds nothing is an exact zero, and a ``skip_connect`` or
      ``avg_pool_3x3`` of a zero adds nothing (a convolution of a zero is *not* dropped: its
      batch norm outputs its learned shift);
    - a sum does not depend on the order of its terms; nodes that do not reach the output,
      and the edges into them, do not appear (which covers relabelling the two inner nodes).

    A node's value is a sorted multiset of terms; a term is ``OP(value of its input)`` or ``x``
    (the cell's input); the empty multiset is an exact zero.
    """
    ops = check_ops(ops)
    value: dict[int, list[str]] = {0: ["x"]}
    for node in (1, 2, 3):
        terms: list[str] = []
        for e, (dst, src) in enumerate(EDGES):
            if dst != node or ops[e] == NONE:
                continue
            x = value[src]
            if ops[e] == SKIP:
                terms.extend(x)
            elif x or ops[e] in (CONV1, CONV3):
                terms.append(f"{OPS[ops[e]]}({'+'.join(x)})")
        value[node] = sorted(terms)
    return "+".join(value[3]) or "0"


@functools.cache
def n_distinct_cells() -> int:
    """Number of distinct :func:`cell_expression` values over the whole space."""
    return len({cell_expression(c) for c in itertools.product(range(len(OPS)), repeat=N_EDGES)})
