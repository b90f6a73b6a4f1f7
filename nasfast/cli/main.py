"""Entry point of the ``nasfast`` console script and ``python -m nasfast``."""

from __future__ import annotations

import argparse
import importlib
import sys

from nasfast.cli.common import DefaultsFormatter
from nasfast.cli.errors import command_parser, flag_message, one_line_errors

# Each module defines register(subparsers) which adds its parser and sets `func` on it.
COMMAND_MODULES = [
    "nasfast.cli.info",
    "nasfast.cli.bench",
    "nasfast.cli.search",
    "nasfast.cli.compare",
    "nasfast.cli.train",
    "nasfast.cli.profile",
    "nasfast.cli.proxies",
]


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    from nasfast._version import __version__

    parser = argparse.ArgumentParser(
        prog="nasfast",
        description="Neural-architecture search whose hot paths are compiled kernels.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"nasfast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    _strict(parser)
    return parser


def _strict(parser: argparse.ArgumentParser) -> None:
    """Every (sub)parser matches whole flags only (``--lr`` never stands for ``--lr-min``),
    reports a bad command line in one line and shows each flag's default in its help."""
    parser.allow_abbrev = False
    one_line_errors(parser)
    if not issubclass(parser.formatter_class, DefaultsFormatter):
        base = parser.formatter_class
        parser.formatter_class = type(f"Defaults{base.__name__}", (DefaultsFormatter, base), {})
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _strict(child)


def _stdout_gone() -> int:
    """stdout's reader left (``nasfast info --json | head``): stop quietly, as ``cat`` does."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, the status of a shell tool whose output pipe closed


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    from nasfast.runs import RunInterrupted

    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        return _stdout_gone()
    except (CLIError, ValueError, FileNotFoundError) as exc:
        message = flag_message(str(exc), command_parser(parser, args))
        print(f"nasfast {args.command}: error: {message}", file=sys.stderr)
        return 2
    except RunInterrupted as exc:
        print(f"nasfast {args.command}: {exc}; continue with --resume", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"nasfast {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
