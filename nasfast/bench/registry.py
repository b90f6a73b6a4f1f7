"""The registry of benchmark cases."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Fn = Callable[[], Any]


@dataclass(frozen=True)
class Case:
    """One comparison: ``setup()`` builds inputs and returns ``(fast, baseline)`` callables.

    ``target`` is the ratio the issue asks for (baseline time / fast time), ``floor`` states the
    least work the op must do (FLOPs and bytes), for the report.
    """

    name: str
    group: str
    setup: Callable[[], tuple[Fn, Fn]]
    quick: bool = True
    target: float | None = None
    floor: str = ""
    baseline: str = "reference"
    device: str = "cpu"


_CASES: dict[str, Case] = {}


def bench_case(
    name: str,
    *,
    group: str,
    quick: bool = True,
    target: float | None = None,
    floor: str = "",
    baseline: str = "reference",
    device: str = "cpu",
) -> Callable[[Callable[[], tuple[Fn, Fn]]], Callable[[], tuple[Fn, Fn]]]:
    """Decorator registering a setup function as a benchmark case."""

    def deco(setup: Callable[[], tuple[Fn, Fn]]) -> Callable[[], tuple[Fn, Fn]]:
        if name in _CASES:
            raise ValueError(f"name: benchmark case {name!r} is registered twice")
        _CASES[name] = Case(name, group, setup, quick, target, floor, baseline, device)
        return setup

    return deco


def all_cases() -> list[Case]:
    """Every registered case, after importing each module in nasfast.bench.cases."""
    import nasfast.bench.cases as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{mod.name}")
    return list(_CASES.values())
