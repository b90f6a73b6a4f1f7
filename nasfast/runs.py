"""A resumable run's bookkeeping, shared by the DARTS search, ``train`` and the supernet trainer:
the settings check against the stored run, atomic checkpoints, RNG states, and the metrics file
cut back to the step a resumed run continues from.

Errors name the ``resume`` parameter (``resume: the checkpoint was made with ...``); the CLI shows
them as ``--resume: ...``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from nasfast._atomic import atomic_path, clean_stale_tmp, read_checkpoint, torch_save_atomic


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


#: what each command's checkpoint is called in messages, by the ``kind`` it stores
KINDS = {
    "search": "`nasfast search darts` (search)",
    "train": "`nasfast train` (train)",
    "supernet": "`nasfast search hybrid` (supernet)",
}


def checkpoint_kind(state: Mapping[str, Any]) -> str | None:
    """The ``kind`` a checkpoint stores, or the one its keys show (files written before kinds)."""
    kind = state.get("kind")
    if isinstance(kind, str):
        return kind
    if "settings" in state and "opt" in state:
        return "train"
    if "config" in state and "a_opt" in state:
        return "search"
    if "losses" in state and "opt" in state:
        return "supernet"
    return None


def load_checkpoint(
    path: str | Path,
    name: str = "resume",
    kind: str | None = None,
    keys: Sequence[str] = (),
) -> dict[str, Any]:
    """The state ``save_checkpoint`` wrote (``weights_only=True``, on CPU); errors name ``name``.

    ``kind``: the command the checkpoint must come from (a checkpoint of another command is
    refused with what it is); ``keys``: entries it must hold."""
    state = read_checkpoint(path, name)
    if not isinstance(state, dict):
        what = type(state).__name__
        raise ValueError(f"{name}: {path} is not a nasfast checkpoint (it holds a {what})")
    found = checkpoint_kind(state)
    if kind is not None and found != kind:
        this = f"a {found} checkpoint" if found else "not a nasfast checkpoint"
        raise ValueError(f"{name}: {path} is {this}, not a {kind} checkpoint")
    missing = [k for k in keys if k not in state]
    if missing:
        raise ValueError(f"{name}: {path} is incomplete (no {', '.join(missing)})")
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


# -- settings checks ----------------------------------------------------------------------------


def check_int(name: str, value: Any, low: int = 1, high: int | None = None) -> None:
    """ValueError unless ``value`` is an int (not a bool) in ``[low, high]``."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        want = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise ValueError(f"{name}: expected {want}, got {value!r}")


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """ValueError unless ``value`` is a finite number inside the given bounds (``low_open``:
    ``low`` itself excluded, likewise ``high_open``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        parts = []
        if low is not None:
            parts.append(f"{'>' if low_open else '>='} {low:g}")
        if high is not None:
            parts.append(f"{'<' if high_open else '<='} {high:g}")
        where = " " + " and ".join(parts) if parts else ""
        raise ValueError(f"{name}: expected a finite number{where}, got {value!r}")


def check_below(low_name: str, low: float, high_name: str, high: float, *, strict: bool) -> None:
    """ValueError naming ``low_name`` unless ``low < high`` (``strict``) or ``low <= high``."""
    if low < high or (not strict and low == high):
        return
    rel = "below" if strict else "at most"
    raise ValueError(f"{low_name}: expected a value {rel} {high_name} ({high!r}), got {low!r}")


# -- divergence and interruption ----------------------------------------------------------------


class Diverged(ValueError):
    """A run's loss, gradient norm or architecture weights became non-finite (NaN or inf)."""


def check_finite_values(step: int, hint: str, **values: float) -> None:
    """:class:`Diverged` naming the first non-finite value of a step (``hint``: what to change)."""
    for key, v in values.items():
        if not math.isfinite(v):
            raise Diverged(f"diverged at step {step}: {key} is {v}; {hint}")


def tensors_finite(tensors: Sequence[torch.Tensor]) -> bool:
    """Whether every element of every tensor is finite (one fused norm per dtype group)."""
    ts = [t.detach() for t in tensors if t.is_floating_point() and t.numel()]
    if not ts:
        return True
    norms = torch._foreach_norm(ts, 1)
    return bool(torch.isfinite(torch.stack([n.float() for n in norms]).sum()))


def last_checkpoint_note(path: str | None, step: int | None) -> str:
    """Where a diverged run's last finite state is, for its error message."""
    if not path:
        return "nothing was saved (no output folder)"
    if step is None:
        return "no checkpoint was written before it"
    return f"{path} holds the last finite state (step {step})"


class RunInterrupted(Exception):
    """Ctrl-C stopped a run at a step boundary after its checkpoint was written."""

    def __init__(self, step: int, checkpoint: str | None):
        where = f"checkpoint {checkpoint}" if checkpoint else "no checkpoint (no output folder)"
        super().__init__(f"interrupted at step {step}; {where}")
        self.step, self.checkpoint = step, checkpoint


class StopRequest:
    """Inside ``with StopRequest() as stop:`` the first Ctrl-C (SIGINT) only sets ``stop.requested``
    so the loop can finish its step, checkpoint and stop; a second one interrupts at once. Off the
    main thread (where handlers cannot be set), or not ``enabled``, it does nothing."""

    def __init__(self, enabled: bool = True) -> None:
        self.requested = False
        self.enabled = enabled
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopRequest:
        if self.enabled and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


# -- metrics lines ------------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def json_line(record: Mapping[str, Any]) -> str:
    """One metrics line of strict JSON: a non-finite float is written as ``null``."""
    return json.dumps(_json_safe(dict(record)), allow_nan=False) + "\n"


# -- the output folder --------------------------------------------------------------------------


def prepare_out(
    out: str | Path,
    files: Sequence[str],
    *,
    resume: bool,
    overwrite: bool,
    check_only: bool = False,
) -> None:
    """Make ``out`` for a run writing ``files`` there, and remove temporary files a killed atomic
    write left behind. A fresh run (no ``resume``) refuses a folder that already holds one of
    ``files`` unless ``overwrite``, which deletes them first. ``check_only``: refuse as above
    but change nothing (the other processes of a distributed run)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: {out} exists and is not a folder")
    if resume and overwrite:
        raise ValueError("overwrite: cannot be combined with resume")
    if out.is_dir() and not check_only:
        clean_stale_tmp(out, files)
    if resume:  # a missing folder: the checkpoint's reader says so
        return
    present = [f for f in files if (out / f).exists()]
    if present and not overwrite:
        raise ValueError(
            f"out: {out} already holds a run ({', '.join(present)}); continue it with --resume, "
            "replace it with --overwrite, or choose another --out"
        )
    if check_only:
        return
    out.mkdir(parents=True, exist_ok=True)
    for f in present:
        (out / f).unlink(missing_ok=True)
