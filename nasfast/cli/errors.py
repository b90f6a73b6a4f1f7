"""Argument errors as one line (no usage block), like the commands' own ValueErrors."""

from __future__ import annotations

import argparse


def one_line_errors(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    def error(message: str):
        parser.exit(2, f"{parser.prog}: error: {message}\n")

    parser.error = error  # type: ignore[method-assign]
    return parser
