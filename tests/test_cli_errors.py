"""Library errors name parameters; the CLI shows them with the flag that sets each."""

from __future__ import annotations

import pytest

from nasfast.cli.errors import command_parser, flag_message
from nasfast.cli.main import build_parser, main


def test_a_parameter_name_becomes_the_subcommand_flag():
    parser = build_parser()
    args = parser.parse_args(["search", "hybrid"])
    hybrid = command_parser(parser, args)
    assert hybrid.prog.endswith("search hybrid")
    assert flag_message("batch_size: expected a positive integer, got 0", hybrid) == (
        "--batch-size: expected a positive integer, got 0"
    )
    assert flag_message("val_images: no", hybrid) == "--val-images: no"
    assert flag_message("C: expected", hybrid) == "--C: expected"


@pytest.mark.parametrize(
    "message",
    ["--budget: expected", "alpha: not a flag here", "no parameter named", "two words: x"],
)
def test_other_messages_are_unchanged(message):
    parser = build_parser()
    rea = command_parser(parser, parser.parse_args(["search", "rea"]))
    assert flag_message(message, rea) == message


def test_hidden_alias_is_not_shown_for_its_destination():
    parser = build_parser()
    rea = command_parser(parser, parser.parse_args(["search", "rea", "--scalarise", "weighted"]))
    assert flag_message("scalarize: bad", rea) == "--scalarize: bad"


def test_cli_prints_the_flag_of_a_library_error(tmp_path, capsys):
    argv = ["search", "hybrid", "--paths", "0", "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["nasfast search: error: --paths: expected a positive integer, got 0"]


def test_old_spelling_is_a_hidden_alias(capsys):
    parser = build_parser()
    assert parser.parse_args(["search", "rea", "--scalarise", "epsilon"]).scalarize == "epsilon"
    with pytest.raises(SystemExit):
        parser.parse_args(["search", "rea", "--help"])
    help_text = capsys.readouterr().out
    assert "--scalarize" in help_text and "--scalarise" not in help_text
