"""Scalarizations: fold several objectives into one score so any single-objective strategy applies.

Work on objectives in minimization form normalized to [0, 1] by the problem's bounds (0 = best),
so weights compare like with like. Lower scalar is better.

- ``weighted_sum``: sum_i w_i f_i (finds only the convex hull of the front).
- ``chebyshev``: max_i w_i (f_i - z_i), ideal point z = 0 after normalization (reaches every
  Pareto-optimal point for some weights).
- ``epsilon``: minimize the primary objective subject to f_j <= eps_j for the others (eps given in
  the metric's own units); a violation ranks below every feasible point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from nasfast import pareto

KINDS = ("weighted", "chebyshev", "epsilon")


class Objectives(Protocol):
    """What a scalarization reads of the problem it is bound to (``nasfast.search.Problem``)."""

    @property
    def n_obj(self) -> int: ...

    @property
    def names(self) -> list[str]: ...

    @property
    def bounds(self) -> Sequence[tuple[float, float]] | None: ...

    def normalized_F(self, metrics: Sequence[Mapping[str, float]]) -> np.ndarray: ...


class Scalarization:
    """``Scalarization("chebyshev", weights=[0.7, 0.3])`` or
    ``Scalarization("epsilon", primary="accuracy", eps={"latency:raspi4": 10.0})``."""

    def __init__(
        self,
        kind: str,
        weights: Sequence[float] | None = None,
        *,
        primary: str | int = 0,
        eps: Mapping[str, float] | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"scalarization: expected one of {', '.join(KINDS)}, got {kind!r}")
        if weights is not None:
            w = np.asarray(weights, dtype=float)
            if w.ndim != 1 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
                raise ValueError(f"weights: expected non-negative finite numbers, got {weights}")
            weights = list(w / w.sum())
        if kind == "epsilon" and not eps:
            raise ValueError(
                "eps: the epsilon-constraint needs bounds, e.g. {'latency:raspi4': 10}"
            )
        self.kind = kind
        self.weights = weights
        self.primary = primary
        self.eps = dict(eps or {})
        self._w: np.ndarray | None = None
        self._primary = 0
        self._eps_norm: np.ndarray | None = None
        self._offset = 2.0

    def bind(self, problem: Objectives) -> None:
        """Resolve names against the problem's objectives (called by ``Problem``)."""
        m = problem.n_obj
        if m < 2:
            raise ValueError("scalarization: needs at least two objectives")
        if self.weights is None:
            self._w = np.full(m, 1.0 / m)
        else:
            if len(self.weights) != m:
                raise ValueError(f"weights: expected {m} weights, got {len(self.weights)}")
            self._w = np.asarray(self.weights)
        names = problem.names
        if isinstance(self.primary, str):
            if self.primary not in names:
                raise ValueError(f"primary: {self.primary!r} is not one of the objectives {names}")
            self._primary = names.index(self.primary)
        else:
            self._primary = int(self.primary)
        if self.kind == "epsilon":
            eps = np.full(m, 1e300)  # no bound on the primary and unnamed objectives
            for name, bound in self.eps.items():
                if name not in names:
                    raise ValueError(f"eps: {name!r} is not one of the objectives {names}")
                eps[names.index(name)] = problem.normalized_F(
                    [{n: (bound if n == name else 0.0) for n in names}]
                )[0, names.index(name)]
            self._eps_norm = eps
            # normalized objectives lie in [0, 1]; raw ones need a larger gap
            self._offset = 2.0 if problem.bounds is not None else 1e12

    def __call__(self, F: np.ndarray) -> np.ndarray:
        """Scalar per row of normalized minimization-form ``F`` (N, M); lower is better."""
        if self._w is None:
            raise ValueError("scalarization: not bound to a problem")
        F = np.asarray(F, dtype=float)
        if self.kind == "weighted":
            return np.asarray(pareto.weighted_sum(F, self._w), dtype=float)
        if self.kind == "chebyshev":
            return np.asarray(pareto.chebyshev(F, self._w, ideal=np.zeros(F.shape[1])), dtype=float)
        assert self._eps_norm is not None
        value = np.asarray(pareto.epsilon_constraint(F, self._primary, self._eps_norm), dtype=float)
        # Infeasible rows (inf) rank after all feasible ones, by how far they violate the bounds,
        # so a search still has a direction towards the feasible region.
        others = np.arange(F.shape[1]) != self._primary
        excess = np.clip(F[:, others] - self._eps_norm[others], 0.0, None).sum(axis=1)
        return np.where(np.isfinite(value), value, self._offset + excess)

    def describe(self) -> str:
        if self.kind == "epsilon":
            return f"epsilon-constraint(primary={self.primary}, eps={self.eps})"
        return f"{self.kind}(weights={None if self._w is None else self._w.round(4).tolist()})"
