"""The benchmark cases run as one suite: selection, measurement, a markdown table, JSON."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from nasfast._atomic import write_json
from nasfast.bench.registry import Case, all_cases
from nasfast.bench.runner import Measurement, measure


def select_cases(quick: bool = False, name_filter: str = "") -> list[Case]:
    """The cases this machine can run (CUDA ones only with a GPU) whose name or group contains
    ``name_filter``; only the quick ones when ``quick``."""
    import torch

    cases = [
        c
        for c in all_cases()
        if (c.quick or not quick)
        and (name_filter in c.name or name_filter in c.group)
        and (c.device == "cpu" or torch.cuda.is_available())
    ]
    if not cases:
        raise ValueError(f"filter: no benchmark case matches {name_filter!r}")
    return cases


def run_suite(cases: Sequence[Case], rounds: int, quick: bool = False) -> list[Measurement]:
    """Each case measured fused vs baseline, interleaved, ``rounds`` paired rounds."""
    if rounds < 1:
        raise ValueError(f"rounds: expected a positive count, got {rounds}")
    min_round_s = 0.01 if quick else 0.02
    return [
        measure(case, rounds=rounds, min_round_s=min_round_s)
        for case in tqdm(cases, desc="bench", unit="case", leave=False)
    ]


def write_suite_json(path: str | Path, env: dict[str, Any], results: Sequence[Measurement]) -> None:
    write_json(path, {"environment": env, "results": [r.as_dict() for r in results]})


def format_table(results: Sequence[Measurement]) -> str:
    head = (
        f"| {'case':<48} | {'ratio':>6} | {'IQR':>11} | {'fast ms':>9} | {'base ms':>9} | target |"
    )
    lines = [head, "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
    for r in results:
        target = f"{r.target:g}x" if r.target else ""
        lines.append(
            f"| {r.name:<48} | {r.ratio:>5.2f}x | {r.ratio_q25:>4.2f}-{r.ratio_q75:<4.2f}x |"
            f" {r.fast_ms:>9.3f} | {r.baseline_ms:>9.3f} | {target:>6} |"
        )
    return "\n".join(lines)
