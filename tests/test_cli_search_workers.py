"""``nasfast search ... --workers N`` and ``--ray-address``."""

from __future__ import annotations

import json
import sys

import pytest


def _cli(argv, capsys):
    from nasfast.cli.main import main

    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def _history(path):
    return [e for e in json.loads((path / "results.json").read_text())["runs"][0]["history"]]


def test_workers_run_a_pool_with_the_same_result_and_show_progress(tmp_path, capsys):
    argv = ["search", "random", "--budget", "12", "--no-plots", "--quiet"]
    rc, _, _ = _cli([*argv, "--out", str(tmp_path / "one")], capsys)
    assert rc == 0
    rc, _, err = _cli(
        [*argv, "--out", str(tmp_path / "two"), "--workers", "2", "--progress"], capsys
    )
    assert rc == 0
    assert _history(tmp_path / "two") == _history(tmp_path / "one")
    assert "busy=" in err and "done=" in err and "failed=0" in err


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--workers", "0"], "--workers: expected an integer >= 1, got 0"),
        (["--workers", "two"], "--workers"),
        (["--ray-address", ""], "--ray-address: expected HOST:PORT"),
    ],
)
def test_bad_worker_flags_are_one_line_errors(extra, match, tmp_path, capsys, monkeypatch):
    rc, _, err = _cli(["search", "rea", "--out", str(tmp_path), *extra], capsys)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and match in lines[0]


def test_ray_missing_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    rc, _, err = _cli(["search", "rea", "--out", str(tmp_path), "--ray-address", "local"], capsys)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and "pip install 'nasfast[ray]'" in lines[0]
