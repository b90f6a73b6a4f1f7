"""A search run's checkpoint: its evaluations so far and what identifies the run (problem,
strategy settings, seed), as one JSON file written atomically."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from nasfast._atomic import atomic_path
from nasfast.search.fingerprint import fingerprint, first_difference
from nasfast.search.problem import Failure

FORMAT = 2


def load_checkpoint(
    path: str | Path | None, identity: dict[str, Any], canonical: Callable[[Any], Hashable]
) -> dict[Hashable, Any]:
    """canonical key -> stored metrics or Failure, from a checkpoint made for this very run
    (ValueError naming ``checkpoint`` and the file otherwise); empty without a file."""
    if path is None or not Path(path).is_file():
        return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"checkpoint: {path} is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        raise ValueError(f"checkpoint: {path} is not a nasfast search checkpoint")
    if data.get("fingerprint") != fingerprint(identity):
        stored = data.get("identity")
        if not isinstance(stored, dict):
            raise ValueError(f"checkpoint: {path} was made by an older nasfast for an unknown run")
        diff = first_difference(stored, identity) or "its fingerprint"
        raise ValueError(f"checkpoint: {path} was made for another run: {diff}")
    out: dict[Hashable, Any] = {}
    try:
        for e in data["history"]:
            out[canonical(tuple(e["candidate"]))] = e["metrics"]
        for e in data.get("failures", []):
            out[canonical(tuple(e["candidate"]))] = Failure(str(e["error"]))
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"checkpoint: {path} holds malformed evaluations") from None
    return out


def save_checkpoint(path: str | Path, identity: dict[str, Any], result: Any) -> None:
    data = {
        "format": FORMAT,
        "fingerprint": fingerprint(identity),
        "identity": identity,
        "strategy": identity["strategy"],
        "seed": identity["seed"],
        "history": [{"candidate": list(e.candidate), "metrics": e.metrics} for e in result.history],
        "failures": [{"candidate": list(f.candidate), "error": f.error} for f in result.failures],
    }
    with atomic_path(Path(path)) as tmp, open(tmp, "w") as f:
        json.dump(data, f, default=float)
