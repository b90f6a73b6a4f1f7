"""A resumable run's bookkeeping, shared by the DARTS search, ``train`` and the supernet trainer:
the settings check against the stored run, atomic checkpoints, RNG states, and the metrics file
cut back to the step a resumed run continues from.

Errors name the ``resume`` parameter (``resume: the checkpoint was made with ...``); the CLI shows
them as ``--resume: ...``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from nasfast._atomic import atomic_path, read_checkpoint, torch_save_atomic


def plain(value: Any) -> Any:
    """Settings as JSON values (tuples become lists), so stored and current ones compare."""
    return json.loads(json.dumps(value))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_settings(
    stored: Mapping[str, Any], current: Mapping[str, Any], *, ignore: Sequence[str] = ()
) -> None:
    """ValueError naming the first setting (in sorted order) the two runs disagree on."""
    for key in sorted(set(stored) | set(current)):
        if key not in ignore and stored.get(key) != current.get(key):
            raise ValueError(
                f"resume: the checkpoint was made with {key}={_short(stored.get(key))}, "
                f"this run has {_short(current.get(key))}"
            )


def save_checkpoint(state: Mapping[str, Any], path: str | Path) -> None:
    """Write ``state`` with ``torch.save`` atomically (a kill never leaves half a checkpoint)."""
    torch_save_atomic(dict(state), path)


def load_checkpoint(path: str | Path, name: str = "resume") -> dict[str, Any]:
    """The state ``save_checkpoint`` wrote (``weights_only=True``, on CPU); errors name ``name``."""
    state = read_checkpoint(path, name)
    if not isinstance(state, dict):
        raise ValueError(f"{name}: {path} is not a nasfast checkpoint")
    return state


def rng_state(device: torch.device, **generators: torch.Generator) -> dict[str, torch.Tensor]:
    """The global torch RNG, the device's CUDA RNG (empty on CPU) and named generators."""
    cuda = torch.zeros(0, dtype=torch.uint8)
    if device.type == "cuda":
        cuda = torch.cuda.get_rng_state(device)
    return {
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": cuda,
        **{f"{name}_rng": g.get_state() for name, g in generators.items()},
    }


def restore_rng(
    state: Mapping[str, Any], device: torch.device, **generators: torch.Generator
) -> None:
    """Put back what :func:`rng_state` saved."""
    torch.set_rng_state(state["torch_rng"])
    cuda = state.get("cuda_rng")
    if device.type == "cuda" and cuda is not None and cuda.numel():
        torch.cuda.set_rng_state(cuda, device)
    for name, g in generators.items():
        g.set_state(state[f"{name}_rng"])


def truncate_metrics(path: str | Path, keep: Callable[[dict[str, Any]], bool]) -> None:
    """Rewrite a ``metrics.jsonl`` with only the records ``keep`` accepts, so a resumed run
    writes none twice; a line torn by a kill (not valid JSON) is dropped."""
    if not os.path.exists(path):
        return
    rows = []
    with open(path) as f:
        for line in f:
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows if keep(r))
