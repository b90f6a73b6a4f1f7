"""Entry point of the ``nasfast`` console script and ``python -m nasfast``."""

from __future__ import annotations

import argparse
import importlib
import sys

from nasfast.cli.errors import command_parser, flag_message

# Each module defines register(subparsers) which adds its parser and sets `func` on it.
COMMAND_MODULES = [
    "nasfast.cli.info",
    "nasfast.cli.bench",
    "nasfast.cli.search",
    "nasfast.cli.compare",
    "nasfast.cli.train",
    "nasfast.cli.profile",
]


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    from nasfast._version import __version__

    parser = argparse.ArgumentParser(
        prog="nasfast",
        description="Neural-architecture search whose hot paths are compiled kernels.",
    )
    parser.add_argument("--version", action="version", version=f"nasfast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (CLIError, ValueError, FileNotFoundError) as exc:
        message = flag_message(str(exc), command_parser(parser, args))
        print(f"nasfast {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
