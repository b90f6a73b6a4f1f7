"""What identifies a search run, so a checkpoint made for one problem is never replayed on another.

A problem is described by its space (class, choices and their values, names, constraints), its
objectives with their directions, and its objective: a benchmark that has a ``fingerprint()``
method (``NB201Benchmark``: data set, fidelity, metric columns, table) describes itself, any other
callable by its qualified name and code. Constraints and plain functions are described by their
code and the simple values they close over; two different lambdas with the same code and the same
captured numbers are indistinguishable, which is the limit of this check.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_SIMPLE = (int, float, str, bool, type(None))


def _hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def _simple(value: Any) -> Any:
    if isinstance(value, _SIMPLE):
        return value
    if isinstance(value, (list, tuple)) and len(value) <= 64:
        return [_simple(v) for v in value]
    if isinstance(value, dict) and len(value) <= 64:
        return {str(k): _simple(v) for k, v in value.items()}
    return type(value).__name__


def describe_callable(f: Any) -> Any:
    """A callable as JSON: its own ``fingerprint()``, or its name, code and captured values."""
    if hasattr(f, "fingerprint") and callable(f.fingerprint):
        return f.fingerprint()
    code = getattr(f, "__code__", None)
    name = getattr(f, "__qualname__", type(f).__qualname__)
    if code is None:
        return {"callable": name}
    cells = [c.cell_contents for c in (getattr(f, "__closure__", None) or ()) if _has(c)]
    consts = [_simple(c) for c in code.co_consts if isinstance(c, _SIMPLE)]
    return {
        "callable": name,
        "code": _hash([code.co_code.hex(), consts, list(code.co_names)]),
        # numbers and strings only: a captured list or dict is usually state (a call log)
        "captured": [_simple(c) for c in cells if isinstance(c, (*_SIMPLE, tuple))],
    }


def _has(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def describe_problem(problem: Any) -> dict[str, Any]:
    space, scal = problem.space, problem.scalarization
    return {
        "space": type(space).__name__,
        "choices": _hash([[repr(v) for v in opts] for opts in space.options]),
        "names": _hash(space.names),
        "constraints": [describe_callable(f) for f in space.constraints],
        "objectives": [f"{'max' if o.maximize else 'min'}:{o.name}" for o in problem.objectives],
        "objective": describe_callable(problem.objective),
        "candidates_as": problem.candidates_as,
        "scalarization": None if scal is None else scal.describe(),
    }


def describe_strategy(strategy: Any) -> dict[str, Any]:
    """The strategy's name and its settings (public attributes set by its constructor)."""
    settings = {k: _simple(v) for k, v in sorted(vars(strategy).items()) if not k.startswith("_")}
    return {"strategy": strategy.name, "settings": settings}


def first_difference(stored: Any, current: Any, path: str = "") -> str | None:
    """The path of the first entry two descriptions disagree on, with both values."""
    if isinstance(stored, dict) and isinstance(current, dict):
        for k in sorted(set(stored) | set(current)):
            d = first_difference(stored.get(k), current.get(k), f"{path}.{k}" if path else k)
            if d:
                return d
        return None
    if stored != current:
        return f"{path or 'problem'} {_short(stored)} vs {_short(current)}"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def fingerprint(identity: dict[str, Any]) -> str:
    """A short hash of a run's description (JSON-normalized, so a stored one compares)."""
    return _hash(json.loads(json.dumps(identity, sort_keys=True, default=repr)))


def plain(value: Any) -> Any:
    """``value`` as JSON values (tuples become lists, unknown objects their repr)."""
    return json.loads(json.dumps(value, sort_keys=True, default=repr))
