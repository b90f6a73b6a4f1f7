"""A generic discrete search space: a choice per position, optional constraints.

A candidate is a tuple of ints, one per position, each an index into that position's choices.
Every search strategy in :mod:`nasfast.search` works on this class (and on its subclasses, such as
:class:`nasfast.spaces.NB201Space`), so a user brings their own space by listing the choices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

Candidate = tuple[int, ...]
Constraint = Callable[[Candidate], bool]

_MAX_REJECTIONS = 10_000


class DiscreteSpace:
    """Positions with a finite list of choices each; optional constraints on whole candidates.

    Args:
        choices: per position either the number of options (an int >= 1) or the list of option
            values (shown by :meth:`values`).
        names: one name per position (default ``x0``, ``x1``, ...).
        constraints: callables ``f(candidate) -> bool``; a candidate is valid when all hold.
    """

    def __init__(
        self,
        choices: Sequence[int | Sequence[Any]],
        names: Sequence[str] | None = None,
        constraints: Sequence[Constraint] | Constraint | None = None,
    ) -> None:
        if len(choices) == 0:
            raise ValueError("choices: expected at least one position, got none")
        options: list[tuple[Any, ...]] = []
        for i, c in enumerate(choices):
            if isinstance(c, (int, np.integer)):
                if c < 1:
                    raise ValueError(f"choices: position {i} has {c} options, expected >= 1")
                options.append(tuple(range(int(c))))
            else:
                opts = tuple(c)
                if not opts:
                    raise ValueError(f"choices: position {i} has no options")
                options.append(opts)
        self.options = options
        self.n_choices = np.array([len(o) for o in options], dtype=np.int64)
        if names is None:
            names = [f"x{i}" for i in range(len(options))]
        if len(names) != len(options):
            raise ValueError(f"names: expected {len(options)} names, got {len(names)}")
        self.names = list(names)
        if constraints is None:
            constraints = []
        elif callable(constraints):
            constraints = [constraints]
        self.constraints = list(constraints)

    # ---------------------------------------------------------------- basic facts
    @property
    def n_positions(self) -> int:
        return len(self.options)

    @property
    def size(self) -> int:
        """Number of candidates, constraints ignored."""
        return int(np.prod(self.n_choices, dtype=object))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(positions={self.n_positions}, "
            f"choices={self.n_choices.tolist()}, constraints={len(self.constraints)})"
        )

    # ---------------------------------------------------------------- validity
    def in_range(self, c: Sequence[int]) -> bool:
        return len(c) == self.n_positions and all(
            0 <= int(v) < n for v, n in zip(c, self.n_choices, strict=True)
        )

    def is_valid(self, c: Sequence[int]) -> bool:
        """In range and every constraint holds."""
        if not self.in_range(c):
            return False
        cand = tuple(int(v) for v in c)
        return all(f(cand) for f in self.constraints)

    def validate(self, c: Sequence[int], name: str = "candidate") -> Candidate:
        """Return ``c`` as a candidate tuple or raise a one-line ValueError naming ``name``."""
        try:
            cand = tuple(int(v) for v in c)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: expected a sequence of ints, got {c!r}") from None
        if not self.in_range(cand):
            raise ValueError(
                f"{name}: expected {self.n_positions} ints with 0 <= c[i] < "
                f"{self.n_choices.tolist()}, got {list(cand)}"
            )
        if not all(f(cand) for f in self.constraints):
            raise ValueError(f"{name}: {list(cand)} violates a constraint of the space")
        return cand

    # ---------------------------------------------------------------- encodings
    def index(self, c: Sequence[int]) -> int:
        """Mixed-radix index of a candidate (position 0 most significant)."""
        idx = 0
        for v, n in zip(c, self.n_choices, strict=True):
            idx = idx * int(n) + int(v)
        return idx

    def from_index(self, idx: int) -> Candidate:
        if not 0 <= idx < self.size:
            raise ValueError(f"idx: expected 0 <= idx < {self.size}, got {idx}")
        out = []
        for n in self.n_choices[::-1]:
            idx, v = divmod(idx, int(n))
            out.append(v)
        return tuple(out[::-1])

    def values(self, c: Sequence[int]) -> tuple[Any, ...]:
        """The option values a candidate picks."""
        return tuple(self.options[i][int(v)] for i, v in enumerate(c))

    def describe(self, c: Sequence[int]) -> str:
        """A readable string for a candidate (subclasses give their official form)."""
        return ",".join(str(v) for v in self.values(c))

    def one_hot(self, cands: Sequence[Sequence[int]]) -> np.ndarray:
        """One-hot encoding, shape (len(cands), sum(n_choices))."""
        offsets = np.concatenate([[0], np.cumsum(self.n_choices)[:-1]])
        X = np.zeros((len(cands), int(self.n_choices.sum())))
        if len(cands):
            C = np.asarray(cands, dtype=np.int64)
            X[np.arange(len(cands))[:, None], offsets[None, :] + C] = 1.0
        return X

    # ---------------------------------------------------------------- enumeration and sampling
    def enumerate(self) -> Iterator[Candidate]:
        """Every valid candidate, in index order."""
        for idx in range(self.size):
            c = self.from_index(idx)
            if all(f(c) for f in self.constraints):
                yield c

    def sample(self, rng: np.random.Generator, n: int = 1) -> list[Candidate]:
        """``n`` independent uniform samples among the valid candidates (rejection sampling)."""
        out: list[Candidate] = []
        tries = 0
        while len(out) < n:
            c = tuple(int(v) for v in rng.integers(0, self.n_choices))
            if all(f(c) for f in self.constraints):
                out.append(c)
            else:
                tries += 1
                if tries > _MAX_REJECTIONS * max(n, 1):
                    raise ValueError("constraints: no valid candidate found by sampling")
        return out

    def mutate(self, c: Sequence[int], rng: np.random.Generator, n_changes: int = 1) -> Candidate:
        """A valid candidate that differs from ``c`` at ``n_changes`` positions (where possible)."""
        mutable = np.flatnonzero(self.n_choices > 1)
        if len(mutable) == 0:
            return tuple(int(v) for v in c)
        k = min(n_changes, len(mutable))
        for _ in range(_MAX_REJECTIONS):
            new = list(int(v) for v in c)
            for pos in rng.choice(mutable, size=k, replace=False):
                shift = int(rng.integers(1, self.n_choices[pos]))
                new[pos] = (new[pos] + shift) % int(self.n_choices[pos])
            cand = tuple(new)
            if all(f(cand) for f in self.constraints):
                return cand
        return tuple(int(v) for v in c)

    def crossover(self, a: Sequence[int], b: Sequence[int], rng: np.random.Generator) -> Candidate:
        """Uniform crossover: each position from ``a`` or ``b`` with equal probability."""
        for _ in range(100):
            mask = rng.random(self.n_positions) < 0.5
            cand = tuple(int(x if m else y) for x, y, m in zip(a, b, mask, strict=True))
            if all(f(cand) for f in self.constraints):
                return cand
        return tuple(int(v) for v in a)

    def neighbors(self, c: Sequence[int]) -> list[Candidate]:
        """Every valid candidate that differs from ``c`` at exactly one position."""
        out = []
        for pos, n in enumerate(self.n_choices):
            for v in range(int(n)):
                if v != c[pos]:
                    new = list(int(x) for x in c)
                    new[pos] = v
                    cand = tuple(new)
                    if all(f(cand) for f in self.constraints):
                        out.append(cand)
        return out
