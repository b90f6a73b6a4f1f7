"""Hardware objectives by name, for the searches that name their objectives:

- ``latency:host``: latency on this machine (1 CPU thread, batch 1), from a profile of the space
  made on first use and cached (``$NASFAST_CACHE_DIR`` or ``~/.cache/nasfast``);
- ``latency:PATH.json``: latency from the latency table at PATH (``nasfast profile`` writes one);
- ``memory[:B]``: peak inference memory (MB) at batch B (default 1), kernel workspaces measured
  on this machine;
- ``train_memory[:B]``: peak memory (MB) of a training step at batch B (default 64; SGD with
  momentum, as NAS-Bench-201 trains).

For NAS-Bench-201 they become columns of the table (all 15,625 cells), so the exact front of any
mix of tabular and hardware objectives is known.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from nasfast.hardware import spaces
from nasfast.hardware.latency import LatencyPredictor
from nasfast.hardware.table import LatencyTable, device_info

MB = 2**20
DEFAULT_BATCH = {"memory": 1, "train_memory": 64}
# exact training peaks behind the NB201 train_memory column's fit (fitted, checked)
TRAIN_MEMORY_SAMPLE = (24, 12)


def is_hardware_objective(name: str) -> bool:
    base = name.split(":", 1)[0]
    return base in DEFAULT_BATCH or (base == "latency" and _latency_source(name) is not None)


def _latency_source(name: str) -> str | None:
    _, _, src = name.partition(":")
    if src == "host" or src.endswith(".json"):
        return src
    return None


def memory_batch(name: str) -> int:
    base, _, b = name.partition(":")
    if not b:
        return DEFAULT_BATCH[base]
    try:
        batch = int(b)
    except ValueError:
        batch = 0
    if batch < 1:
        raise ValueError(f"objectives: expected {base}:BATCH with BATCH an int >= 1, got {name!r}")
    return batch


def cache_dir() -> Path:
    root = os.environ.get("NASFAST_CACHE_DIR") or Path.home() / ".cache" / "nasfast"
    return Path(root)


def host_table_path(cfg: dict[str, Any], threads: int = 1) -> Path:
    ident = {"space": cfg, "device": device_info("cpu", threads), "torch": _torch_version()}
    digest = hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]
    return cache_dir() / "profiles" / f"host-{cfg['name']}-{digest}.json"


def _torch_version() -> str:
    import torch

    return torch.__version__


def host_table(cfg: dict[str, Any], progress: bool = True) -> LatencyTable:
    """The cached profile of space ``cfg`` on this machine (1 thread), made when absent."""
    from nasfast.hardware.space_profile import profile_space

    path = host_table_path(cfg)
    if path.is_file():
        return LatencyTable.load(path)
    table = profile_space(cfg, threads=1, progress=progress)
    table.save(path)
    return table


def latency_table(name: str, cfg: dict[str, Any]) -> LatencyTable:
    src = _latency_source(name)
    if src == "host":
        return host_table(cfg)
    table = LatencyTable.load(src)
    if table.space is None or table.space.get("name") != cfg["name"]:
        raise ValueError(f"objectives: {src} is not a latency table of the {cfg['name']} space")
    return table


def _cached_column(kind: str, cfg: dict[str, Any], compute) -> np.ndarray:
    ident = {"kind": kind, "space": cfg, "device": device_info("cpu", 1), "torch": _torch_version()}
    digest = hashlib.sha1(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir() / "columns" / f"{cfg['name']}-{kind}-{digest}.npy"
    if path.is_file():
        return np.load(path)
    values = compute()
    from nasfast._atomic import atomic_path

    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, values)
    return values


def nb201_column(name: str, cfg: dict[str, Any] | None = None) -> np.ndarray:
    """Values of hardware objective ``name`` for every NB201 cell in mixed-radix op order
    (edge 0 most significant): ms for latency, MB for memory."""
    from nasfast.hardware.nb201_latency import nb201_latency
    from nasfast.hardware.nb201_memory import nb201_inference_memory
    from nasfast.hardware.nb201_train_memory import nb201_training_memory
    from nasfast.hardware.workspace import Workspaces

    base = name.split(":", 1)[0]
    if base == "latency":
        table = latency_table(name, cfg or spaces.space_config("nb201"))
        return nb201_latency(LatencyPredictor(table, missing="profile"))
    cfg = dict(cfg or spaces.space_config("nb201"))
    cfg["batch"] = memory_batch(name)
    if base == "memory":
        compute = lambda: nb201_inference_memory(cfg, workspaces=Workspaces("cpu"))  # noqa: E731
    else:
        fit, check = TRAIN_MEMORY_SAMPLE
        compute = lambda: nb201_training_memory(  # noqa: E731
            cfg, workspaces=Workspaces("cpu"), fit=fit, check=check
        )[0]
    return _cached_column(base, cfg, compute) / MB


NB201_DATASETS = {"cifar10": (10, 32), "cifar100": (100, 32), "imagenet16": (120, 16)}


def nb201_space_config(dataset: str = "cifar10") -> dict[str, Any]:
    """The NB201 network as the benchmark trains it on ``dataset`` (classes, image size)."""
    classes, size = NB201_DATASETS[dataset]
    return spaces.space_config("nb201", num_classes=classes, image=[3, size, size])


def add_nb201_columns(nb_table: Any, objectives: list[str], dataset: str = "cifar10") -> None:
    """Add the hardware objectives among ``objectives`` to an ``NB201Table`` as columns
    (``lat_ms_<source>`` with ``<source>`` a device, ``memory``/``train_memory`` as named)."""
    cfg = nb201_space_config(dataset)
    codes = nb_table.ops.astype(np.int64) @ (5 ** np.arange(5, -1, -1))
    for name in objectives:
        if not is_hardware_objective(name):
            continue
        base = name.split(":", 1)[0]
        column = f"lat_ms_{_latency_source(name)}" if base == "latency" else name
        made_for = nb_table.__dict__.setdefault("hardware_dataset", {})
        if column in nb_table.columns and made_for.get(column) == dataset:
            continue
        nb_table.columns[column] = np.asarray(nb201_column(name, cfg), dtype=np.float64)[codes]
        made_for[column] = dataset
        if base == "latency" and _latency_source(name) not in nb_table.devices:
            nb_table.devices.append(_latency_source(name))
