"""DARTS genotypes: derivation from the architecture weights, JSON round trip.

Derivation (DARTS, Liu et al. 2019, section 2.4): for each intermediate node keep the two
incoming edges whose strongest non-``none`` op has the largest weight, and on each kept edge
the strongest non-``none`` op. ``max_skips`` (P-DARTS, Chen et al. 2019, section 3.3) bounds the
number of ``skip_connect`` in the normal cell: while the bound is exceeded, the kept skip with
the smallest weight is struck out on its edge and the cell derived again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nasfast._atomic import atomic_path
from nasfast.nn import PRIMITIVES

Gene = list[tuple[str, int]]


@dataclass
class Genotype:
    normal: Gene
    normal_concat: list[int]
    reduce: Gene
    reduce_concat: list[int]
    alphas_normal: list[list[float]] = field(default_factory=list)
    alphas_reduce: list[list[float]] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return len(self.normal) // 2

    def to_dict(self) -> dict:
        d = {
            "normal": [[op, int(j)] for op, j in self.normal],
            "normal_concat": list(self.normal_concat),
            "reduce": [[op, int(j)] for op, j in self.reduce],
            "reduce_concat": list(self.reduce_concat),
            "alphas_normal": self.alphas_normal,
            "alphas_reduce": self.alphas_reduce,
            "primitives": list(PRIMITIVES),
        }
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict, *, source: str = "genotype") -> Genotype:
        for key in ("normal", "reduce"):
            if key not in d:
                raise ValueError(f"{source}: no {key!r} list")
        cells = {}
        for key in ("normal", "reduce"):
            gene = d[key]
            if not isinstance(gene, list) or not gene or len(gene) % 2:
                raise ValueError(f"{source}: {key!r} must be a non-empty list of 2 pairs per node")
            out = []
            for n, pair in enumerate(gene):
                if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                    raise ValueError(f"{source}: {key}[{n}] must be an [op, input] pair")
                op, j = pair
                if op not in PRIMITIVES or op == "none":
                    raise ValueError(f"{source}: {key}[{n}] has unknown op {op!r}")
                if not isinstance(j, int) or not 0 <= j < 2 + n // 2:
                    raise ValueError(f"{source}: {key}[{n}] input {j!r} is not an earlier node")
                out.append((op, j))
            cells[key] = out
        steps = len(cells["normal"]) // 2
        default_concat = list(range(2, 2 + steps))
        return cls(
            normal=cells["normal"],
            normal_concat=list(d.get("normal_concat", default_concat)),
            reduce=cells["reduce"],
            reduce_concat=list(d.get("reduce_concat", default_concat)),
            alphas_normal=d.get("alphas_normal", []),
            alphas_reduce=d.get("alphas_reduce", []),
        )

    def save(self, path: str) -> None:
        with atomic_path(path) as tmp, open(tmp, "w") as f:
            json.dump(self.to_dict(), f, indent=1)

    @classmethod
    def load(cls, path: str) -> Genotype:
        try:
            with open(path) as f:
                d = json.load(f)
        except OSError as exc:
            raise ValueError(f"genotype: cannot read {path} ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"genotype: {path} is not JSON ({exc.msg}, line {exc.lineno})"
            ) from None
        if not isinstance(d, dict):
            raise ValueError(f"genotype: {path} must hold a JSON object")
        return cls.from_dict(d, source=path)

    def describe(self) -> str:
        def fmt(g: Gene) -> str:
            return ", ".join(f"{op}<-{j}" for op, j in g)

        return f"normal: [{fmt(self.normal)}]\nreduce: [{fmt(self.reduce)}]"


def derive_cell(
    weights: np.ndarray | Sequence[Sequence[float]],
    *,
    steps: int = 4,
    edge_scale: np.ndarray | Sequence[float] | None = None,
    max_skips: int | None = None,
) -> Gene:
    """The cell gene of per-edge op weights ``[E, 8]`` (probabilities, rows in edge order).

    ``edge_scale`` (PC-DARTS edge normalization) multiplies each edge's row first.
    """
    W = np.array(weights, dtype=np.float64)
    E = sum(2 + i for i in range(steps))
    if W.shape != (E, len(PRIMITIVES)):
        raise ValueError(f"weights: expected shape [{E}, {len(PRIMITIVES)}], got {list(W.shape)}")
    if edge_scale is not None:
        W = W * np.asarray(edge_scale, dtype=np.float64).reshape(E, 1)
    none, skip = PRIMITIVES.index("none"), PRIMITIVES.index("skip_connect")
    ops = [k for k in range(len(PRIMITIVES)) if k != none]
    while True:
        gene: Gene = []
        rows: list[int] = []
        start = 0
        for i in range(steps):
            n = 2 + i
            block = W[start : start + n]
            edges = sorted(range(n), key=lambda j: -max(block[j][k] for k in ops))[:2]
            for j in edges:
                k_best = max(ops, key=lambda k: block[j][k])
                gene.append((PRIMITIVES[k_best], j))
                rows.append(start + j)
            start += n
        skips = [r for (op, _), r in zip(gene, rows, strict=True) if op == "skip_connect"]
        if max_skips is None or len(skips) <= max_skips:
            return gene
        weakest = min(skips, key=lambda r: W[r][skip])
        W[weakest][skip] = -np.inf


def softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(a - m)
    return e / e.sum(axis=axis, keepdims=True)


def derive_genotype(
    alphas_normal: np.ndarray,
    alphas_reduce: np.ndarray,
    *,
    steps: int = 4,
    multiplier: int = 4,
    op_mask: np.ndarray | None = None,
    betas_normal: np.ndarray | None = None,
    betas_reduce: np.ndarray | None = None,
    max_skips: int | None = 2,
) -> Genotype:
    """The genotype of raw alphas ``[E, 8]`` (softmax per edge; pruned ops masked out).

    ``max_skips`` applies to the normal cell only (the reduction cell's skips are
    FactorizedReduce convolutions). ``None`` disables the bound.
    """
    an, ar = np.asarray(alphas_normal, np.float64), np.asarray(alphas_reduce, np.float64)
    if op_mask is not None:
        m = np.asarray(op_mask, dtype=bool)
        an, ar = np.where(m[0], an, -np.inf), np.where(m[1], ar, -np.inf)

    def edge_norm(b):
        if b is None:
            return None
        b, out, start = np.asarray(b, np.float64), [], 0
        for i in range(steps):
            out.append(softmax(b[start : start + 2 + i]))
            start += 2 + i
        return np.concatenate(out)

    concat = list(range(2 + steps - multiplier, steps + 2))
    return Genotype(
        normal=derive_cell(
            softmax(an), steps=steps, edge_scale=edge_norm(betas_normal), max_skips=max_skips
        ),
        normal_concat=concat,
        reduce=derive_cell(softmax(ar), steps=steps, edge_scale=edge_norm(betas_reduce)),
        reduce_concat=concat,
        alphas_normal=np.asarray(alphas_normal, np.float64).tolist(),
        alphas_reduce=np.asarray(alphas_reduce, np.float64).tolist(),
    )
