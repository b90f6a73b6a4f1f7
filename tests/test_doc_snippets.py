"""Every ```python block of README.md and docs/ runs as written.

A block preceded by ``<!-- norun -->`` is skipped from collection: only for code that needs data
a user supplies. Each block runs on its own, in a fresh namespace, inside a temporary directory.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
NORUN = "<!-- norun -->"
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def doc_pages(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def python_blocks(text: str) -> list[tuple[int, str, bool]]:
    """(line number, code, runnable) of each ```python block in ``text``."""
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().splitlines()
        runnable = not before or before[-1].strip() != NORUN
        blocks.append((text.count("\n", 0, match.start()) + 1, match.group(1), runnable))
    return blocks


def _runnable_snippets() -> list:
    params = []
    for page in doc_pages():
        for line, code, runnable in python_blocks(page.read_text()):
            if runnable:
                name = f"{page.relative_to(ROOT)}:{line}"
                params.append(pytest.param(code, id=name))
    return params


@pytest.mark.parametrize("code", _runnable_snippets())
def test_snippet_runs(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the snippets' tiny tensors: a second thread only adds waiting
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # e.g. every evaluation failed
            exec(compile(code, "<doc snippet>", "exec"), {"__name__": "__doc_snippet__"})
    finally:
        torch.set_num_threads(threads)


def test_readme_and_docs_have_runnable_examples() -> None:
    readme = [b for b in python_blocks((ROOT / "README.md").read_text()) if b[2]]
    assert len(readme) >= 3
    pages = [p for p in doc_pages() if p.parent.name in ("docs", "ops")]
    runnable = [p for p in pages if any(b[2] for b in python_blocks(p.read_text()))]
    assert len(runnable) >= 8, [str(p.relative_to(ROOT)) for p in runnable]


def test_every_results_summary_is_linked_from_the_results_readme() -> None:
    results = ROOT / "benchmarks" / "results"
    index = (results / "README.md").read_text()
    linked = set(re.findall(r"\]\(([^)#]+\.md)\)", index))
    summaries = {p.name for p in results.glob("*.md")} - {"README.md"}
    assert summaries - linked == set()
    assert linked - summaries == set()  # no link to a missing summary


def test_every_subcommand_is_in_the_readme_command_table() -> None:
    import argparse

    from nasfast.cli.main import build_parser

    rows = [
        line.split("|")[1].strip()
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("| `nasfast ")
    ]

    def subcommands(parser: argparse.ArgumentParser) -> dict:
        return next(
            (a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)),
            {},
        )

    missing = []
    for name, parser in subcommands(build_parser()).items():
        children = subcommands(parser)
        if not children:
            if not any(row.startswith(f"`nasfast {name}") for row in rows):
                missing.append(name)
            continue
        mine = [row for row in rows if row.startswith(f"`nasfast {name} ")]
        for child in children:
            if not any(re.search(rf"[ {{,]{child}[ }},]", row) for row in mine):
                missing.append(f"{name} {child}")
    assert missing == []


def test_norun_marker_excludes_only_the_next_block() -> None:
    text = "\n".join(
        [
            "```python",
            "a = 1",
            "```",
            NORUN,
            "",
            "```python",
            "b = 2",
            "```",
            "```python",
            "c",
            "```",
        ]
    )
    assert [(code, runnable) for _, code, runnable in python_blocks(text)] == [
        ("a = 1\n", True),
        ("b = 2\n", False),
        ("c\n", True),
    ]


def test_a_failing_snippet_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("```python\nraise ValueError('x: expected 1')\n```\n")
    [(_, code, runnable)] = python_blocks(doc_pages(tmp_path)[0].read_text())
    assert runnable
    with pytest.raises(ValueError, match="x: expected 1"):
        test_snippet_runs(code, tmp_path, monkeypatch)
