"""``nasfast bench``: selected cases measured, printed as a table, written as JSON."""

from __future__ import annotations

import json

from nasfast.cli.main import main


def test_bench_one_case_to_json(tmp_path, capsys):
    path = tmp_path / "out" / "bench.json"
    argv = ["bench", "--filter", "hypervolume M=2 N=100k", "--rounds", "2", "--quick"]
    assert main([*argv, "--json", str(path), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "| pareto hypervolume M=2 N=100k vs moocore" in out and f"wrote {path}" in out
    data = json.loads(path.read_text())
    assert [r["name"] for r in data["results"]] == ["pareto hypervolume M=2 N=100k vs moocore"]
    assert data["results"][0]["ratio"] > 0 and "torch" in data["environment"]


def test_bench_errors_name_the_flags(capsys):
    assert main(["bench", "--filter", "no such case"]) == 2
    assert capsys.readouterr().err.strip() == (
        "nasfast bench: error: --filter: no benchmark case matches 'no such case'"
    )
    assert main(["bench", "--filter", "pareto", "--rounds", "0"]) == 2
    assert "--rounds: expected a positive count, got 0" in capsys.readouterr().err
