"""User errors as one line: argparse's own (no usage block), and library errors, which name a
parameter (``epochs: ...``), shown with the flag that sets it (``--epochs: ...``)."""

from __future__ import annotations

import argparse


def one_line_errors(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    def error(message: str):
        parser.exit(2, f"{parser.prog}: error: {message}\n")

    parser.error = error  # type: ignore[method-assign]
    return parser


def command_parser(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The (sub)parser that parsed the command ``args`` came from."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(args, action.dest, None) or "")
            if chosen is not None:
                return command_parser(chosen, args)
    return parser


def flag_message(message: str, parser: argparse.ArgumentParser) -> str:
    """``"batch_size: ..."`` -> ``"--batch-size: ..."`` when ``batch_size`` is a flag's
    destination in ``parser``; other messages unchanged."""
    name, sep, rest = message.partition(":")
    if not sep or not name.isidentifier():
        return message
    for action in parser._actions:
        if action.dest == name and action.option_strings:
            return f"{action.option_strings[0]}:{rest}"
    return message
