"""Encodings: candidates of a space -> feature matrices a :class:`Predictor` can fit.

- :class:`OneHot`: any :class:`~nasfast.spaces.DiscreteSpace` (one block per position).
- :class:`~nasfast.estimate.predictors.nb201_encodings.NB201Adjacency`,
  :class:`~nasfast.estimate.predictors.nb201_encodings.NB201Path` and
  :class:`~nasfast.estimate.predictors.nb201_encodings.NB201Graph`: the NAS-Bench-201 cell as a
  graph (adjacency + operations, BANANAS path counts, the GCN's input).
- :class:`Features`: any callable ``f(candidates) -> (n, k)`` array, such as zero-cost proxy
  scores or a low-fidelity metric; :class:`Concat` joins encodings side by side.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from nasfast.estimate.predictors.base import as_matrix
from nasfast.spaces.discrete import Candidate, DiscreteSpace


class Encoding(ABC):
    """``encoding(candidates) -> (n, dim)`` float64 matrix."""

    name = "encoding"

    @property
    @abstractmethod
    def dim(self) -> int:
        """Features per candidate."""

    @abstractmethod
    def __call__(self, cands: Sequence[Sequence[int]]) -> np.ndarray: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


def check_candidates(space: DiscreteSpace, cands: Sequence[Sequence[int]]) -> list[Candidate]:
    return [space.validate(c, name="cands") for c in cands]


class OneHot(Encoding):
    """One block of ``n_choices[i]`` indicator features per position of any discrete space."""

    name = "onehot"

    def __init__(self, space: DiscreteSpace) -> None:
        if not isinstance(space, DiscreteSpace):
            raise ValueError(f"space: expected a DiscreteSpace, got {type(space).__name__}")
        self.space = space

    @property
    def dim(self) -> int:
        return int(self.space.n_choices.sum())

    def __call__(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        return self.space.one_hot(check_candidates(self.space, cands))


class Features(Encoding):
    """Features computed by a callable ``fn(candidates) -> (n, k)`` (or (n,)) array.

    Use it for zero-cost proxy scores, a low-fidelity metric, or anything else known per
    candidate. ``dim`` is ``k`` when given, else learnt at the first call.
    """

    def __init__(
        self,
        fn: Callable[[list[Candidate]], object],
        dim: int | None = None,
        name: str = "features",
    ) -> None:
        if not callable(fn):
            raise ValueError(f"fn: expected a callable scoring candidates, got {type(fn).__name__}")
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim < 1):
            raise ValueError(f"dim: expected an int >= 1 or None, got {dim!r}")
        self.fn = fn
        self._dim = dim
        self.name = name

    @property
    def dim(self) -> int:
        if self._dim is None:
            raise ValueError(f"{self.name}: dim is unknown until the features are first computed")
        return self._dim

    def __call__(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        cands = [tuple(int(v) for v in c) for c in cands]
        raw = np.asarray(self.fn(cands), dtype=np.float64)
        if raw.ndim == 1:
            raw = raw[:, None]
        A = as_matrix(raw, name=self.name, n_features=self._dim)
        if len(A) != len(cands):
            raise ValueError(f"{self.name}: returned {len(A)} rows for {len(cands)} candidates")
        self._dim = A.shape[1]
        return A


class Concat(Encoding):
    """Several encodings side by side (e.g. path encoding + a low-fidelity accuracy)."""

    def __init__(self, parts: Sequence[Encoding]) -> None:
        parts = list(parts)
        if not parts or not all(isinstance(p, Encoding) for p in parts):
            raise ValueError("parts: expected a non-empty list of Encoding objects")
        self.parts = parts
        self.name = "+".join(p.name for p in parts)

    @property
    def dim(self) -> int:
        return sum(p.dim for p in self.parts)

    def __call__(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        return np.concatenate([p(cands) for p in self.parts], axis=1)
