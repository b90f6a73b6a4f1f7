"""Atomic file writes: write beside the target, then ``os.replace`` it into place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path beside ``path``; when the block succeeds it replaces ``path``.

    A reader never sees a half-written file, and a failed write leaves ``path`` as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def torch_save_atomic(obj: Any, path: str | Path) -> None:
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def read_checkpoint(path: str | Path, name: str = "resume") -> Any:
    """``torch.load(path, weights_only=True)`` on CPU, with a missing or unreadable file as one
    user error naming the parameter ``name`` (the counterpart of :func:`torch_save_atomic`)."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"{name}: no checkpoint at {path}") from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one user error
        raise ValueError(f"{name}: cannot read {path} ({type(exc).__name__})") from None


def write_json(path: str | Path, obj: Any) -> None:
    """``obj`` as indented JSON at ``path``, written atomically (folders created)."""
    import json

    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
