"""The ratio tables of README.md and docs/ are what benchmarks/render_readme.py renders from the
results JSON."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_renderer():
    spec = importlib.util.spec_from_file_location(
        "render_readme", ROOT / "benchmarks" / "render_readme.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


render = _load_renderer()


@pytest.mark.parametrize("page", sorted(render.PAGES))
def test_page_table_matches_results_json(page: str) -> None:
    text, rendered = render.render_pages()[page]
    assert rendered == text, (
        f"{page}: the ratio table differs from benchmarks/results/*.json; "
        "run python benchmarks/render_readme.py"
    )


def test_page_shows_only_its_topics() -> None:
    table = render.render_table(page="docs/ops/pareto.md")
    assert "../../benchmarks/results/pareto.md" in table
    assert "mixed_op" not in table
    assert len(table.splitlines()) == 2 + sum(r.summary == "pareto.md" for r in render.ROWS)


def test_every_quoted_file_and_summary_exists() -> None:
    for row in render.ROWS:
        assert (render.RESULTS / row.summary).is_file(), row.summary
        for name in row.files:
            assert (render.RESULTS / name).is_file(), name


def test_check_fails_when_a_json_ratio_changes(tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(render.RESULTS, results)
    root = tmp_path / "repo"
    for page in render.PAGES:
        (root / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / page, root / page)
    args = ["--root", str(root), "--results", str(results)]
    assert render.main(["--check", *args]) == 0

    data = json.loads((results / "pareto.json").read_text())
    data["results"][0]["ratio"] *= 2
    (results / "pareto.json").write_text(json.dumps(data))
    assert render.main(["--check", *args]) == 1

    assert render.main(args) == 0
    assert render.main(["--check", *args]) == 0
    assert (root / "README.md").read_text() != (ROOT / "README.md").read_text()


def test_row_of_several_runs_is_their_lowest(tmp_path: Path) -> None:
    for i, ratio in enumerate([3.0, 1.0, 2.0]):
        data = {"results": [{"name": "case", "ratio": ratio}]}
        (tmp_path / f"run{i}.json").write_text(json.dumps(data))
    row = render.Row(
        "c", "b", "s.md", ("run0.json", "run1.json", "run2.json"), render.bench_case("case")
    )
    assert render.row_ratio(row, tmp_path) == 1.0


def test_missing_markers_and_unknown_case_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="markers"):
        render.replace_table("# no table here\n", "| a |")
    (tmp_path / "r.json").write_text(json.dumps({"results": [{"name": "x", "ratio": 1.0}]}))
    row = render.Row("c", "b", "s.md", ("r.json",), render.bench_case("y"))
    with pytest.raises(ValueError, match="no such case"):
        render.row_ratio(row, tmp_path)
