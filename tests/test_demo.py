"""``make demo``: every ``nasfast`` command of its recipe, with smaller budgets, runs in-process;
those that write a folder run twice (a second ``make demo`` writes into the same folders)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from nasfast.cli.main import main

MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"

# flag -> smaller value; the demo's own values stay for every other flag
SHRINK = {
    "--train-images": "128",
    "--time-backends": "0",
    "--budget": "20",
    "--seeds": "2",
    "--curve": "5,10,20",
}
EXTRA = {("search", "darts"): ["--max-steps", "1"]}


def demo_commands() -> list[list[str]]:
    """The argument lists of the demo recipe's ``$(VENV)/bin/nasfast`` lines."""
    text = MAKEFILE.read_text().replace("\\\n", " ")
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert recipe, "no demo recipe in the Makefile"
    lines = [line.strip() for line in recipe.group(1).splitlines()]
    assert all(line.startswith("$(VENV)/bin/nasfast ") for line in lines), lines
    return [shlex.split(line)[1:] for line in lines]


def shrunk(argv: list[str], out: Path) -> list[str]:
    argv = list(argv)
    for i, word in enumerate(argv[:-1]):
        if word in SHRINK:
            argv[i + 1] = SHRINK[word]
        elif word == "--out":
            argv[i + 1] = str(out / Path(argv[i + 1]).name)
    return [*argv, *EXTRA.get(tuple(argv[:2]), [])]


def test_the_demo_runs_the_commands_it_describes():
    commands = [argv[:2] for argv in demo_commands()]
    assert ["search", "darts"] in commands and ["search", "nsga2"] in commands
    assert any(argv[0] == "compare" and "--curve" in argv for argv in demo_commands())


@pytest.mark.parametrize("argv", demo_commands(), ids=lambda a: " ".join(a[:2]))
def test_a_demo_command_runs(argv, tmp_path, capsys):
    argv = shrunk(argv, tmp_path)
    assert main(argv) == 0, capsys.readouterr().err
    if "--out" in argv:
        out = Path(argv[argv.index("--out") + 1])
        assert out.is_dir()
        assert main(argv) == 0, capsys.readouterr().err
    assert capsys.readouterr().out
