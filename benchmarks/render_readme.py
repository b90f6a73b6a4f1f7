"""Render the tables of speed ratios in README.md and docs/ from the JSON in benchmarks/results/.

Every ratio in those tables is read from a results file, so no number is typed twice:

    python benchmarks/render_readme.py           # rewrite the tables between the markers
    python benchmarks/render_readme.py --check   # exit 1 when a table differs from the JSON

README.md shows every row; a page in docs/ shows the rows of its topics. A row quoting several
runs shows the lowest of their ratios: contention on a shared host slows the baselines (many
small parallel regions) more than nasfast's ops, so a disturbed run can only inflate a ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BEGIN = "<!-- ratio-table:begin (benchmarks/render_readme.py writes this table) -->"
END = "<!-- ratio-table:end -->"

Pick = Callable[[dict], float]


def bench_case(name: str) -> Pick:
    """The ratio of case ``name`` in a ``nasfast bench --json`` file."""

    def pick(data: dict) -> float:
        for result in data["results"]:
            if result["name"] == name:
                return float(result["ratio"])
        raise ValueError(f"{name!r}: no such case in the results file")

    return pick


def gpu_case(shape: list[int], stride: int, versus: str) -> Pick:
    """The median ratio against ``versus`` (eager, compiled) in a gpu_darts_edge.py file."""

    def pick(data: dict) -> float:
        for timing in data["timings"]:
            if timing["shape"] == shape and timing["stride"] == stride:
                return float(timing[f"ratio_vs_{versus}"]["median"])
        raise ValueError(f"{shape} stride {stride}: no such timing in the results file")

    return pick


@dataclass(frozen=True)
class Row:
    case: str
    baseline: str
    summary: str  # the markdown file in benchmarks/results/ that explains the row
    files: tuple[str, ...]
    pick: Pick


EDGE_CPU_RUNS = tuple(f"darts_edge_cpu_run{i}.json" for i in range(1, 6))

ROWS = (
    Row(
        "`mixed_op` forward+backward, K=8, (64,16,32,32) float32, CPU",
        "reference twin",
        "mixed_op.md",
        ("mixed_op.json",),
        bench_case("mixed_op fwd+bwd K=8 (64,16,32,32) f32"),
    ),
    Row(
        "`DartsEdge` train step, (32,16,32,32) float32, CPU",
        "DARTS Python loop",
        "darts_edge_cpu.md",
        EDGE_CPU_RUNS,
        bench_case("darts_edge fwd+bwd train (32,16,32,32) f32"),
    ),
    Row(
        "`DartsEdge` train step, (32,64,8,8) float32, CPU",
        "DARTS Python loop",
        "darts_edge_cpu.md",
        EDGE_CPU_RUNS,
        bench_case("darts_edge fwd+bwd train (32,64,8,8) f32"),
    ),
    Row(
        "`DartsEdge` train step, (32,16,32,32) float32, H100",
        "DARTS Python loop",
        "darts_edge_gpu.md",
        ("darts_edge_gpu_h100.json",),
        gpu_case([32, 16, 32, 32], 1, "eager"),
    ),
    Row(
        "`DartsEdge` train step, (32,16,32,32) float32, H100",
        "`torch.compile` of the loop",
        "darts_edge_gpu.md",
        ("darts_edge_gpu_h100.json",),
        gpu_case([32, 16, 32, 32], 1, "compiled"),
    ),
    Row(
        "DARTS search step, second order, C=8, 5 cells, batch 32, CPU",
        "reference backend",
        "darts_edge_cpu.md",
        ("darts_search_step_t2.json",),
        bench_case("darts search step 2nd order C=8 L=5 b=32 1x28x28"),
    ),
    Row(
        "Pareto ranks, M=2, N=10^4",
        "moocore",
        "pareto.md",
        ("pareto.json",),
        bench_case("pareto rank M=2 N=10k vs moocore"),
    ),
    Row(
        "Pareto ranks, M=5, N=10^4",
        "moocore",
        "pareto.md",
        ("pareto.json",),
        bench_case("pareto rank M=5 N=10k vs moocore"),
    ),
    Row(
        "hypervolume, M=3, N=10^4",
        "moocore",
        "pareto.md",
        ("pareto.json",),
        bench_case("pareto hypervolume M=3 N=10k vs moocore"),
    ),
    Row(
        "NB201 supernet, 64 candidates scored in one pass, CPU",
        "per-candidate loop",
        "supernet.md",
        ("supernet.json",),
        bench_case("supernet 64 random cands x16 32x32 C=8 N=1 eval"),
    ),
)


def row_ratio(row: Row, results: Path) -> float:
    """The row's ratio: the lowest over its files (see the module docstring)."""
    values = []
    for name in row.files:
        data = json.loads((results / name).read_text())
        values.append(row.pick(data))
    return min(values)


# page (relative to the repository root) -> the summaries whose rows it shows (None: all)
PAGES: dict[str, tuple[str, ...] | None] = {
    "README.md": None,
    "docs/ops/mixed_op.md": ("mixed_op.md",),
    "docs/ops/darts_edge.md": ("darts_edge_cpu.md", "darts_edge_gpu.md"),
    "docs/ops/pareto.md": ("pareto.md",),
    "docs/oneshot.md": ("supernet.md",),
}


def render_table(
    results: Path = RESULTS, rows: tuple[Row, ...] = ROWS, page: str = "README.md"
) -> str:
    """The table for ``page``: its rows, each linking to its summary relative to the page."""
    topics = PAGES.get(page)
    up = "../" * page.count("/")
    lines = ["| case | baseline | ratio |", "| --- | --- | --- |"]
    for row in rows:
        if topics is not None and row.summary not in topics:
            continue
        link = f"[{row.case}]({up}benchmarks/results/{row.summary})"
        lines.append(f"| {link} | {row.baseline} | {row_ratio(row, results):.2f}x |")
    return "\n".join(lines)


def replace_table(readme: str, table: str) -> str:
    """``readme`` (a page's text) with the text between the markers replaced by ``table``."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"page: expected the markers {BEGIN!r} and {END!r}, in that order")
    return readme[: start + len(BEGIN)] + "\n" + table + "\n" + readme[end:]


def render_pages(root: Path = ROOT, results: Path = RESULTS) -> dict[str, tuple[str, str]]:
    """page -> (its text now, its text with the tables rendered from ``results``)."""
    out = {}
    for page in PAGES:
        text = (root / page).read_text()
        out[page] = (text, replace_table(text, render_table(results, page=page)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 on a difference")
    ap.add_argument("--root", type=Path, default=ROOT, help="the repository root")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    stale = []
    for page, (text, rendered) in render_pages(args.root, args.results).items():
        if rendered == text:
            continue
        stale.append(page)
        if not args.check:
            (args.root / page).write_text(rendered)
    if args.check and stale:
        print(f"{', '.join(stale)}: ratio table differs from {args.results}; run {__file__}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
