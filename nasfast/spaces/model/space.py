"""The space of a model with choices: its decisions, sampling, encodings, freeze and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from nasfast._atomic import atomic_path
from nasfast.spaces.model.context import Arch, ChoiceSpec, frozen, recording

ENCODINGS = ("onehot", "values", "both")


class ModelSpace:
    """The search space of ``factory(*args, **kwargs)``, a model whose constructor makes choices.

    ``factory`` is usually the model's class. The space builds it once while recording, to learn
    its choices (``specs``, label -> :class:`ChoiceSpec`, in the order they were made); every
    architecture is a dict label -> value, and :meth:`freeze` builds the plain model of one.
    """

    def __init__(self, factory: Callable[..., nn.Module], *args: Any, **kwargs: Any) -> None:
        if not callable(factory):
            raise ValueError(f"factory: expected a model class or callable, got {factory!r}")
        self.factory, self.args, self.kwargs = factory, args, kwargs
        model, rec = self.build()
        if not rec.specs:
            raise ValueError(f"factory: {_name(factory)} makes no choices (nothing to search)")
        self.specs: dict[str, ChoiceSpec] = dict(rec.specs)
        self.plain_reads = frozenset(rec.plain_reads)

    def build(self) -> tuple[nn.Module, Any]:
        """A fresh model with every candidate (the supernet) and the recorder of its choices."""
        with recording() as rec:
            model = self.factory(*self.args, **self.kwargs)
        if not isinstance(model, nn.Module):
            raise ValueError(f"factory: expected an nn.Module, got {type(model).__name__}")
        return model, rec

    # ------------------------------------------------------------------ facts
    @property
    def labels(self) -> list[str]:
        return list(self.specs)

    @property
    def sizes(self) -> dict[str, int]:
        return {k: s.size for k, s in self.specs.items()}

    @property
    def size(self) -> int:
        return int(np.prod([s.size for s in self.specs.values()], dtype=object))

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}: {s.kind} x{s.size}" for k, s in self.specs.items())
        return f"ModelSpace({_name(self.factory)}; {parts})"

    def default(self) -> Arch:
        return {k: s.default for k, s in self.specs.items()}

    # ------------------------------------------------------------------ architectures
    def validate(self, arch: Mapping[str, Any], name: str = "arch") -> Arch:
        """``arch`` checked and normalised (input choices as tuples), or a one-line ValueError."""
        if not isinstance(arch, Mapping):
            raise ValueError(f"{name}: expected a dict label -> value, got {type(arch).__name__}")
        extra = [k for k in arch if k not in self.specs]
        if extra:
            raise ValueError(f"{name}: unknown label {extra[0]!r}; the space has {self.labels}")
        out: Arch = {}
        for label, spec in self.specs.items():
            if label not in arch:
                raise ValueError(f"{name}: no value for choice {label!r}")
            v = arch[label]
            if spec.kind == "input" and isinstance(v, (list, tuple)):
                v = tuple(int(i) for i in v)
            if v not in spec.values:
                raise ValueError(
                    f"{name}: {label!r} = {v!r} is not one of its candidates {list(spec.values)}"
                )
            out[label] = v
        return out

    def sample(self, rng: np.random.Generator) -> Arch:
        """A uniformly drawn architecture."""
        return {k: s.values[int(rng.integers(s.size))] for k, s in self.specs.items()}

    def index_of(self, arch: Mapping[str, Any]) -> tuple[int, ...]:
        a = self.validate(arch)
        return tuple(s.values.index(a[k]) for k, s in self.specs.items())

    def arch_of(self, indices: Sequence[int]) -> Arch:
        if len(indices) != len(self.specs):
            raise ValueError(f"indices: expected {len(self.specs)} ints, got {len(indices)}")
        return {k: s.values[int(i)] for (k, s), i in zip(self.specs.items(), indices, strict=True)}

    # ------------------------------------------------------------------ encodings
    def encode(self, archs: Mapping[str, Any] | Sequence[Mapping[str, Any]], how: str = "onehot"):
        """Feature rows for predictors: ``onehot`` (one block per choice), ``values`` (the
        numeric value of value/repeat choices, the index otherwise) or ``both``."""
        if how not in ENCODINGS:
            raise ValueError(f"how: expected one of {ENCODINGS}, got {how!r}")
        single = isinstance(archs, Mapping)
        rows = [self._encode_one(self.validate(a), how) for a in ([archs] if single else archs)]
        X = np.array(rows, dtype=np.float64).reshape(len(rows), -1)
        return X[0] if single else X

    def _encode_one(self, arch: Arch, how: str) -> list[float]:
        hot: list[float] = []
        val: list[float] = []
        for k, s in self.specs.items():
            i = s.values.index(arch[k])
            hot.extend(1.0 if j == i else 0.0 for j in range(s.size))
            v = arch[k]
            numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
            val.append(float(v) if numeric and s.kind in ("value", "repeat") else float(i))
        return {"onehot": hot, "values": val, "both": hot + val}[how]

    # ------------------------------------------------------------------ freeze
    def freeze(self, arch: Mapping[str, Any]) -> nn.Module:
        """The plain model of ``arch``: only the chosen parts, no nasfast objects inside."""
        return self.freeze_and_key(arch)[0]

    def freeze_and_key(self, arch: Mapping[str, Any]) -> tuple[nn.Module, str]:
        """The plain model of ``arch`` and its key: the JSON of the choices its build read.
        Architectures that differ only in choices the model does not contain (inside blocks a
        smaller depth leaves out, or inside a value-built layer not chosen) build the same
        model and share the key."""
        a = self.validate(arch)
        with frozen(a) as ctx:
            model = self.factory(*self.args, **self.kwargs)
        key = json.dumps({k: _plain(v) for k, v in a.items() if k in ctx.used})
        return model, key

    def key(self, arch: Mapping[str, Any]) -> str:
        return self.freeze_and_key(arch)[1]

    # ------------------------------------------------------------------ JSON
    def to_json(self, arch: Mapping[str, Any]) -> str:
        return json.dumps({k: _plain(v) for k, v in self.validate(arch).items()}, sort_keys=False)

    def from_json(self, text: str) -> Arch:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"arch: not JSON ({exc.msg}, line {exc.lineno})") from None
        return self.validate(data)

    def save(self, arch: Mapping[str, Any], path: str | Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "w") as f:
            f.write(self.to_json(arch) + "\n")

    def load(self, path: str | Path) -> Arch:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ValueError(f"path: cannot read {path} ({exc.strerror})") from None
        return self.from_json(text)

    # ------------------------------------------------------------------ discrete view
    def discrete(self):
        """This space as a :class:`~nasfast.spaces.DiscreteSpace` (a position per choice)."""
        from nasfast.spaces.model.discrete import ModelDiscreteSpace

        return ModelDiscreteSpace(self)


def _plain(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def _name(f: Any) -> str:
    return getattr(f, "__qualname__", type(f).__name__)
