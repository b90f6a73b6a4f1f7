"""How a model with choices is being built: recorded (the space), or frozen to one architecture.

A model space is an ordinary ``nn.Module`` whose ``__init__`` calls :func:`choice` and builds
:class:`~nasfast.spaces.model.LayerChoice`, :class:`~nasfast.spaces.model.InputChoice` and
:class:`~nasfast.spaces.model.Repeat`. The same constructor runs in one of two contexts:

- recording (the default): every choice is registered with its label and candidates, and takes
  its default (first) candidate where a plain value is needed; the choice modules keep every
  candidate (the supernet of one-shot methods);
- frozen to an architecture (a dict label -> value): every choice takes the architecture's value
  and the choice modules build only the chosen part, so the model holds plain torch modules.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Arch = dict[str, Any]  # choice label -> chosen value

KINDS = ("value", "layer", "input", "repeat")


@dataclass(frozen=True)
class ChoiceSpec:
    """One decision of a space: its label, kind and candidate values (in order)."""

    label: str
    kind: str
    values: tuple[Hashable, ...]

    @property
    def size(self) -> int:
        return len(self.values)

    @property
    def default(self) -> Hashable:
        return self.values[0]


@dataclass
class Recorder:
    """Collects the choices of one build; ``plain_reads``: labels read as plain values."""

    specs: dict[str, ChoiceSpec] = field(default_factory=dict)
    plain_reads: set[str] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)

    def auto_label(self, kind: str) -> str:
        n = self.counters.get(kind, 0)
        self.counters[kind] = n + 1
        return f"{kind}_{n}"

    def register(self, spec: ChoiceSpec) -> ChoiceSpec:
        old = self.specs.get(spec.label)
        if old is None:
            self.specs[spec.label] = spec
            return spec
        if old.values != spec.values or _family(old.kind) != _family(spec.kind):
            raise ValueError(
                f"label: {spec.label!r} is reused for a different choice ({spec.kind} "
                f"{list(spec.values)} vs {old.kind} {list(old.values)}); a reused label must "
                f"name the same candidates"
            )
        return old


def _family(kind: str) -> str:
    # a value choice and a layer choice built from values (LayerChoice.from_values) are one family
    return "value" if kind in ("value", "repeat") else kind


@dataclass
class Frozen:
    """Builds one architecture: ``arch`` maps every label to its chosen value."""

    arch: Mapping[str, Any]
    counters: dict[str, int] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # labels this build read

    def auto_label(self, kind: str) -> str:
        n = self.counters.get(kind, 0)
        self.counters[kind] = n + 1
        return f"{kind}_{n}"

    def value(self, spec: ChoiceSpec) -> Any:
        if spec.label not in self.arch:
            raise ValueError(f"arch: no value for choice {spec.label!r}")
        v = self.arch[spec.label]
        if spec.kind == "input":
            v = tuple(v)
        if v not in spec.values:
            raise ValueError(
                f"arch: {spec.label!r} = {v!r} is not one of its candidates {list(spec.values)}"
            )
        self.used.add(spec.label)
        return v


_STATE = threading.local()


def _stack() -> list[Recorder | Frozen]:
    if not hasattr(_STATE, "stack"):
        _STATE.stack = []
    return _STATE.stack


def current() -> Recorder | Frozen:
    """The innermost build context; outside any, a throwaway recorder (defaults everywhere)."""
    stack = _stack()
    return stack[-1] if stack else Recorder()


@contextmanager
def recording() -> Iterator[Recorder]:
    rec = Recorder()
    _stack().append(rec)
    try:
        yield rec
    finally:
        _stack().pop()


@contextmanager
def frozen(arch: Mapping[str, Any]) -> Iterator[Frozen]:
    ctx = Frozen(dict(arch))
    _stack().append(ctx)
    try:
        yield ctx
    finally:
        _stack().pop()


def resolve(kind: str, label: str | None, values: Sequence[Hashable]) -> tuple[ChoiceSpec, Any]:
    """Register (recording) or look up (frozen) a choice; returns its spec and current value."""
    ctx = current()
    if label is None:
        label = ctx.auto_label(kind)
    if not isinstance(label, str) or not label or "." in label:
        raise ValueError(f"label: expected a non-empty string without '.', got {label!r}")
    values = tuple(values)
    if not values:
        raise ValueError(f"values: choice {label!r} needs at least one candidate")
    if len(set(values)) != len(values):
        raise ValueError(f"values: choice {label!r} lists a candidate twice: {list(values)}")
    spec = ChoiceSpec(label, kind, values)
    if isinstance(ctx, Frozen):
        return spec, ctx.value(spec)
    spec = ctx.register(spec)
    return spec, spec.default


def choice(label: str, values: Sequence[Hashable]) -> Any:
    """A hyperparameter choice: returns the value of this build (the default when recording).

    Use the result anywhere in ``__init__`` (a width, a kernel size, a dropout rate; arithmetic
    on it gives a derived value). The same label anywhere else names the same decision.
    """
    for v in values:
        if not isinstance(v, (int, float, str, bool)) and v is not None:
            raise ValueError(
                f"values: choice {label!r} candidates must be JSON scalars (int, float, str, bool),"
                f" got {type(v).__name__}"
            )
    spec, value = resolve("value", label, values)
    ctx = current()
    if isinstance(ctx, Recorder):
        ctx.plain_reads.add(spec.label)
    return value
