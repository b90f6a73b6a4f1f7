"""``nasfast search STRATEGY ...``: every module ``nasfast.cli.search_*`` adds its strategies.

Each such module defines ``register(strategies)`` which adds one or more sub-parsers to the
``search`` command and sets ``func`` on each.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="run an architecture search")
    strategies = p.add_subparsers(dest="strategy", metavar="STRATEGY")
    import nasfast.cli as pkg

    for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
        if mod.startswith("search_"):
            importlib.import_module(f"nasfast.cli.{mod}").register(strategies)
    p.set_defaults(func=lambda args: p.print_help() or 2)
