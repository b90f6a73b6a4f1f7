"""A generic discrete search space: a choice per position, optional constraints.

A candidate is a tuple of ints, one per position, each an index into that position's choices.
Every search strategy in :mod:`nasfast.search` works on this class (and on its subclasses, such as
:class:`nasfast.spaces.NB201Space`), so a user brings their own space by listing the choices.

User callables (constraints, and by default a problem's objective) receive the option *values*
of a candidate as a named record (``c.width`` or ``c[1]``); ``candidates_as="indices"`` hands
them the index tuple instead. :meth:`DiscreteSpace.canonical` maps equivalent candidates to one
key, so a search never pays twice for one architecture.
"""

from __future__ import annotations

import itertools
from collections import namedtuple
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

import numpy as np

Candidate = tuple[int, ...]
Constraint = Callable[[Any], bool]

_MAX_REJECTIONS = 10_000
CANDIDATE_FORMS = ("values", "indices")
ENUMERATE_LIMIT = 1_000_000  # spaces up to this size may be enumerated to sample a small valid set
_PILOT_DRAWS = 1000  # fixed-seed draws that estimate the valid fraction (pure: no user rng used)
_SMALL_FRACTION = 0.02  # below it (and enumerable), sample from the list of valid candidates
_MAX_DRAWS = 1_000_000  # rejection draws before a non-enumerable space is declared empty


class DiscreteSpace:
    """Positions with a finite list of choices each; optional constraints on whole candidates.

    Args:
        choices: per position either the number of options (an int >= 1) or the list of option
            values (shown by :meth:`values`).
        names: one name per position (default ``x0``, ``x1``, ...).
        constraints: callables ``f(candidate) -> bool``; a candidate is valid when all hold.
        candidates_as: what constraints (and, by default, a problem's objective) receive:
            ``"values"`` (default): a named record of the option values (fields named after
            ``names``, also indexable); ``"indices"``: the tuple of option indices.
    """

    def __init__(
        self,
        choices: Sequence[int | Sequence[Any]],
        names: Sequence[str] | None = None,
        constraints: Sequence[Constraint] | Constraint | None = None,
        *,
        candidates_as: str = "values",
    ) -> None:
        if candidates_as not in CANDIDATE_FORMS:
            raise ValueError(
                f"candidates_as: expected 'values' or 'indices', got {candidates_as!r}"
            )
        self.candidates_as = candidates_as
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
        for f in self.constraints:
            if not callable(f):
                raise ValueError(f"constraints: expected callables, got {f!r}")
        self._record = namedtuple("Candidate", self.names, rename=True)  # type: ignore[misc]
        self._valid_cache: list[Candidate] | None = None
        self._sample_mode: str | None = None
        self._n_distinct: int | None = None

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
        return self.satisfies(tuple(int(v) for v in c))

    def record(self, c: Sequence[int]) -> tuple[Any, ...]:
        """The option values of ``c`` as a named record (fields named after the positions)."""
        return self._record(*self.values(c))

    def argument(self, c: Candidate) -> Any:
        """``c`` as user callables receive it (see ``candidates_as``)."""
        return c if self.candidates_as == "indices" else self.record(c)

    def satisfies(self, c: Candidate) -> bool:
        """Every constraint holds for the in-range candidate ``c``."""
        if not self.constraints:
            return True
        arg = self.argument(c)
        return all(bool(f(arg)) for f in self.constraints)

    def canonical(self, c: Sequence[int]) -> Hashable:
        """One key per equivalence class of candidates (default: the candidate itself).

        Subclasses whose encodings are redundant (isomorphic cells, symmetric positions) return
        the same key for equivalent candidates; the search loop, its cache and budget, and every
        strategy's record of what it has seen use this key.
        """
        return tuple(int(v) for v in c)

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
        if not self.satisfies(cand):
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
        for c in itertools.product(*(range(int(n)) for n in self.n_choices)):
            if self.satisfies(c):
                yield c

    def valid_candidates(self) -> list[Candidate] | None:
        """All valid candidates (computed once), or None when the space is too large to list."""
        if self._valid_cache is None:
            if self.size > ENUMERATE_LIMIT:
                return None
            self._valid_cache = list(self.enumerate())
        return self._valid_cache

    def count_valid(self) -> int | None:
        """Number of valid candidates (None: too many to enumerate)."""
        if not self.constraints:
            return self.size
        valid = self.valid_candidates()
        return None if valid is None else len(valid)

    def count_distinct(self) -> int | None:
        """Number of canonical classes among the valid candidates (None: too many to enumerate)."""
        if type(self).canonical is DiscreteSpace.canonical:
            return self.count_valid()
        if self._n_distinct is None:
            valid = self.valid_candidates()
            if valid is None:
                return None
            self._n_distinct = len({self.canonical(c) for c in valid})
        return self._n_distinct

    def _sampling_mode(self) -> str:
        """``uniform`` (no constraints), ``list`` (few valid: draw from their list) or ``reject``.

        Decided once from fixed-seed draws, so it never depends on the caller's generator or on
        what ran before: a seeded search draws the same candidates on a fresh or a used space.
        """
        if self._sample_mode is None:
            if not self.constraints:
                self._sample_mode = "uniform"
            else:
                pilot = np.random.default_rng(0).integers(
                    0, self.n_choices, size=(_PILOT_DRAWS, self.n_positions)
                )
                ok = sum(self.satisfies(tuple(int(v) for v in row)) for row in pilot)
                small = ok < _SMALL_FRACTION * _PILOT_DRAWS
                self._sample_mode = "list" if small and self.size <= ENUMERATE_LIMIT else "reject"
        return self._sample_mode

    def _draw(self, rng: np.random.Generator) -> Candidate:
        return tuple(int(v) for v in rng.integers(0, self.n_choices))

    def sample(self, rng: np.random.Generator, n: int = 1) -> list[Candidate]:
        """``n`` independent uniform samples among the valid candidates.

        Rejection sampling with a growing budget; when few candidates are valid, a uniform draw
        from the enumerated valid set. A ValueError only when no candidate is valid.
        """
        mode = self._sampling_mode()
        if mode == "uniform":
            return [self._draw(rng) for _ in range(n)]
        out: list[Candidate] = []
        if mode == "reject":
            budget = _MAX_REJECTIONS + 100 * n
            if self.size > ENUMERATE_LIMIT:
                budget = max(budget, _MAX_DRAWS)
            tries = 0
            while len(out) < n and tries < budget:
                c = self._draw(rng)
                tries += 1
                if self.satisfies(c):
                    out.append(c)
            if len(out) == n:
                return out
        valid = self.valid_candidates()
        if valid is None:
            raise ValueError(
                f"constraints: no valid candidate in {_MAX_DRAWS} random draws, and the space "
                f"({self.size} candidates) is too large to enumerate"
            )
        if not valid:
            raise ValueError(f"constraints: no candidate satisfies them (all {self.size} checked)")
        out += [valid[int(i)] for i in rng.integers(0, len(valid), size=n - len(out))]
        return out

    def mutate(self, c: Sequence[int], rng: np.random.Generator, n_changes: int = 1) -> Candidate:
        """A valid candidate that differs from ``c`` at ``n_changes`` positions (where possible;
        else the nearest valid candidates, by the number of positions changed)."""
        mutable = np.flatnonzero(self.n_choices > 1)
        if len(mutable) == 0:
            return tuple(int(v) for v in c)
        k = min(n_changes, len(mutable))
        tries = _MAX_REJECTIONS if self._sampling_mode() != "list" else 200
        for _ in range(tries):
            new = list(int(v) for v in c)
            for pos in rng.choice(mutable, size=k, replace=False):
                shift = int(rng.integers(1, self.n_choices[pos]))
                new[pos] = (new[pos] + shift) % int(self.n_choices[pos])
            cand = tuple(new)
            if self.satisfies(cand):
                return cand
        return self.nearest_valid(c, rng, exclude_self=True)

    def nearest_valid(
        self, c: Sequence[int], rng: np.random.Generator, exclude_self: bool = False
    ) -> Candidate:
        """A valid candidate differing from ``c`` at the fewest positions (ties drawn at random;
        a uniform valid sample when the space is too large to enumerate)."""
        c = tuple(int(v) for v in c)
        valid = self.valid_candidates()
        if valid is None:
            return self.sample(rng, 1)[0]
        if not valid:
            raise ValueError(f"constraints: no candidate satisfies them (all {self.size} checked)")
        V = np.asarray(valid, dtype=np.int64)
        dist = (V != np.asarray(c)[None, :]).sum(axis=1)
        if exclude_self and len(valid) > 1:
            dist = np.where(dist == 0, self.n_positions + 1, dist)
        best = np.flatnonzero(dist == dist.min())
        return valid[int(best[rng.integers(0, len(best))])]

    def repair(self, c: Sequence[int], rng: np.random.Generator) -> Candidate:
        """``c`` if valid, else a valid candidate close to it: mutations of growing size, then
        the nearest valid candidate, a uniform sample only as a last resort."""
        c = tuple(int(v) for v in c)
        if self.satisfies(c):
            return c
        mutable = np.flatnonzero(self.n_choices > 1)
        for k in range(1, len(mutable) + 1):
            for _ in range(20):
                new = list(c)
                for pos in rng.choice(mutable, size=k, replace=False):
                    new[pos] = (new[pos] + int(rng.integers(1, self.n_choices[pos]))) % int(
                        self.n_choices[pos]
                    )
                if self.satisfies(tuple(new)):
                    return tuple(new)
        return self.nearest_valid(c, rng)

    def crossover(self, a: Sequence[int], b: Sequence[int], rng: np.random.Generator) -> Candidate:
        """Uniform crossover: each position from ``a`` or ``b`` with equal probability."""
        for _ in range(100):
            mask = rng.random(self.n_positions) < 0.5
            cand = tuple(int(x if m else y) for x, y, m in zip(a, b, mask, strict=True))
            if self.satisfies(cand):
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
                    if self.satisfies(cand):
                        out.append(cand)
        return out
