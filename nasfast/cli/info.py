"""``nasfast info``: what this build contains."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="print the build: versions, compiled backends, threads, ops")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nasfast.build_info import build_info

    info = build_info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    width = max(len(k) for k in info)
    for key, value in info.items():
        if isinstance(value, list):
            value = ", ".join(map(str, value)) or "(none)"
        print(f"{key:<{width}}  {value}")
    return 0
