"""The latency lookup table: what was measured, where, how, and the calibration of the predictor.

JSON, one object::

    {"format": "nasfast-latency-table", "version": 1,
     "device": {"type": "cpu", "name": "...", "threads": 1}, "torch": "2.13.0+cpu",
     "settings": {"warmup": 3, "rounds": 7, "sample_ms": 1.0, "statistic": "min"},
     "space": {"name": "nb201", "C": 16, ...} or null,
     "ops": {"<op call key>": {"ms": 0.01, "min": ..., "median": ..., "trimmed_mean": ..., "n": 7}},
     "calibration": {"features": [...], "coef": [...], ...} or null,
     "darts_costs": {...} (only for the DARTS space, see nasfast.hardware.darts_costs)}

``ms`` is the statistic named in ``settings`` and is what the predictor adds up.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nasfast._atomic import atomic_path
from nasfast.hardware.timing import TimingSettings

FORMAT = "nasfast-latency-table"
VERSION = 1


def device_info(device: torch.device | str, threads: int | None = None) -> dict[str, Any]:
    device = torch.device(device)
    if device.type == "cuda":
        return {"type": "cuda", "name": torch.cuda.get_device_name(device), "threads": None}
    return {"type": "cpu", "name": cpu_name(), "threads": threads or torch.get_num_threads()}


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass
class LatencyTable:
    device: dict[str, Any]
    settings: TimingSettings
    ops: dict[str, dict[str, float]] = field(default_factory=dict)
    space: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None
    torch_version: str = torch.__version__
    extra: dict[str, Any] = field(default_factory=dict)

    def ms(self, key: str) -> float:
        return self.ops[key]["ms"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "device": self.device,
            "torch": self.torch_version,
            "settings": self.settings.to_dict(),
            "space": self.space,
            "ops": self.ops,
            "calibration": self.calibration,
            **self.extra,
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "w") as f:
                json.dump(self.to_dict(), f, indent=1)
        return path

    @classmethod
    def from_dict(cls, d: Any, source: str = "table") -> LatencyTable:
        def fail(what: str) -> ValueError:
            return ValueError(f"profile: {source}: {what}")

        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise fail(f'not a latency table (expected "format": "{FORMAT}")')
        if d.get("version") != VERSION:
            raise fail(f"expected version {VERSION}, got {d.get('version')!r}")
        for key, kind in (("device", dict), ("settings", dict), ("ops", dict), ("torch", str)):
            if not isinstance(d.get(key), kind):
                raise fail(
                    f"expected {key!r} to be a JSON {kind.__name__ if kind is str else 'object'}"
                )
        if d["device"].get("type") not in ("cpu", "cuda"):
            raise fail(f"device.type must be cpu or cuda, got {d['device'].get('type')!r}")
        try:
            settings = TimingSettings(**d["settings"])
        except (TypeError, ValueError) as exc:
            raise fail(f"bad settings ({exc})") from None
        for key, entry in d["ops"].items():
            ms = entry.get("ms") if isinstance(entry, dict) else None
            if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not ms >= 0:
                raise fail(f"op {key[:60]!r} needs a number ms >= 0, got {ms!r}")
        cal = d.get("calibration")
        if cal is not None:
            check_calibration(cal, fail)
        space = d.get("space")
        if space is not None and not isinstance(space, dict):
            raise fail("expected 'space' to be an object or null")
        known = {"format", "version", "device", "torch", "settings", "space", "ops", "calibration"}
        return cls(
            device=d["device"],
            settings=settings,
            ops=d["ops"],
            space=space,
            calibration=cal,
            torch_version=d["torch"],
            extra={k: v for k, v in d.items() if k not in known},
        )

    @classmethod
    def load(cls, path: str | Path) -> LatencyTable:
        path = Path(os.fspath(path))
        try:
            with open(path) as f:
                d = json.load(f)
        except OSError as exc:
            raise ValueError(f"profile: cannot read {path} ({exc.strerror})") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"profile: {path} is not JSON ({exc.msg})") from None
        return cls.from_dict(d, str(path))


def check_calibration(cal: Any, fail) -> None:
    if not isinstance(cal, dict):
        raise fail("expected 'calibration' to be an object or null")
    feats, coef = cal.get("features"), cal.get("coef")
    if not isinstance(feats, list) or not isinstance(coef, list) or len(feats) != len(coef):
        raise fail("calibration needs 'features' and 'coef' lists of one length")
    if not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coef):
        raise fail("calibration coef must be numbers")
