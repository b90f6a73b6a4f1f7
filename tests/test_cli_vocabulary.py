"""One CLI vocabulary for the training commands: every flag has help text and shows its default,
no abbreviated flags, progress on by default in a terminal; `info --json | head` ends quietly."""

from __future__ import annotations

import argparse
import io
import sys

import pytest

from nasfast.cli.common import progress_of
from nasfast.cli.errors import command_parser
from nasfast.cli.main import build_parser, main

COMMANDS = [["search", "darts"], ["search", "hybrid"], ["train", "--genotype", "g.json"]]


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = build_parser()
    return command_parser(parser, parser.parse_args(argv))


def _every_parser(parser: argparse.ArgumentParser, path=()):
    """(command words, parser) for ``nasfast`` and every subcommand under it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _every_parser(child, (*path, name))


PARSERS = {" ".join(path) or "nasfast": p for path, p in _every_parser(build_parser())}


def test_the_command_list_covers_every_subcommand():
    assert {"search darts", "search nsga2", "compare", "profile", "proxies", "bench"} <= set(
        PARSERS
    )


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_flag_has_help_and_shows_its_default(name):
    parser = PARSERS[name]
    formatter = parser._get_formatter()
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        assert action.help, f"{action.option_strings[0]} has no help text"
        shown = formatter._get_help_string(action)
        if action.default not in (None, False, argparse.SUPPRESS):
            assert "default" in shown, f"{action.option_strings[0]}: {shown}"
    assert parser.format_help()


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_the_training_commands_take_progress_flags(argv):
    assert "--progress, --no-progress" in _parser(argv).format_help()


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_no_flag_is_matched_by_a_prefix(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([*argv, "--batch", "8"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unrecognized arguments: --batch" in err[0]


def test_progress_is_on_in_a_terminal_unless_told(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    args = argparse.Namespace(progress=None)
    monkeypatch.setattr(sys, "stderr", Tty())
    assert progress_of(args) is True
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_of(args) is False
    assert progress_of(argparse.Namespace(progress=True)) is True
    assert (
        _parser(["search", "darts", "--no-progress"]).parse_args(["--no-progress"]).progress
        is False
    )


def test_a_closed_stdout_pipe_ends_quietly(monkeypatch, capsys, tmp_path):
    sink = open(tmp_path / "sink", "w")

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError

        def fileno(self):
            return sink.fileno()

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    try:
        assert main(["info", "--json"]) == 141
    finally:
        sink.close()
    assert capsys.readouterr().err == ""


def test_rea_on_the_table_takes_pop_size_and_the_old_spelling(capsys):
    parser = build_parser()
    assert parser.parse_args(["search", "rea", "--pop-size", "7"]).population == "7"
    assert parser.parse_args(["search", "rea", "--population", "7"]).population == "7"
    with pytest.raises(SystemExit):
        parser.parse_args(["search", "rea", "--help"])
    text = capsys.readouterr().out
    assert "--pop-size" in text and "--population" not in text
