"""Time a clean-clone `make test` (or `make test-quick`) per phase, in wall and CPU seconds.

    python benchmarks/ci_time.py [--ref HEAD] [--target test] [--out FILE.json]

Clones the repository at --ref into a temporary folder and runs the make target there with a
SHELL wrapper that logs every recipe line's wall, user and system seconds (children included),
and a compiler launcher that logs every C++ translation unit of the ctest build. The host may be
shared: wall seconds grow with its load, CPU seconds much less, so both are written, with the
load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME_FORMAT = "%e %U %S"


def _wrapper(path: Path, log: Path, body: str) -> Path:
    path.write_text(f"#!/bin/bash\n{body.format(log=log, fmt=TIME_FORMAT)}\n")
    path.chmod(0o755)
    return path


def parse_time_log(text: str) -> list[dict]:
    """Lines of `wall user sys :: what` into records (what is the recipe line or object file)."""
    rows = []
    for line in text.splitlines():
        head, sep, what = line.partition(" :: ")
        fields = head.split()
        if not sep or len(fields) != 3:
            continue
        wall, user, sys_ = (float(f) for f in fields)
        rows.append({"what": what.strip(), "wall_s": wall, "cpu_s": round(user + sys_, 2)})
    return rows


def run(ref: str, target: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="ci-time-") as tmp:
        tmp_path = Path(tmp)
        clone = tmp_path / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", ref], check=True)
        commit = subprocess.run(
            ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        recipes, objects = tmp_path / "recipes.log", tmp_path / "objects.log"
        shell = _wrapper(
            tmp_path / "shell.sh",
            recipes,
            '/usr/bin/time -a -o {log} -f "{fmt} :: ${{2:0:200}}" /bin/sh "$@"',
        )
        launcher = _wrapper(
            tmp_path / "cc.sh",
            objects,
            'out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done\n'
            'exec /usr/bin/time -a -o {log} -f "{fmt} :: $out" "$@"',
        )
        env = dict(os.environ, CMAKE_CXX_COMPILER_LAUNCHER=str(launcher))
        load_before = os.getloadavg()
        before = os.times()
        start = time.perf_counter()
        proc = subprocess.run(["make", target, f"SHELL={shell}"], cwd=clone, env=env)
        wall = time.perf_counter() - start
        after = os.times()
        return {
            "target": target,
            "commit": commit,
            "returncode": proc.returncode,
            "wall_s": round(wall, 1),
            "cpu_s": round(
                after.children_user
                + after.children_system
                - before.children_user
                - before.children_system,
                1,
            ),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "recipes": parse_time_log(recipes.read_text() if recipes.exists() else ""),
            "objects": parse_time_log(objects.read_text() if objects.exists() else ""),
        }


def machine() -> dict:
    import torch

    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", default="HEAD")
    ap.add_argument("--target", default="test", choices=["test", "test-quick"])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ci_time.json"))
    args = ap.parse_args()
    result = {"machine": machine(), **run(args.ref, args.target)}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"{args.target}: {result['wall_s']} s wall, {result['cpu_s']} s CPU -> {args.out}")


if __name__ == "__main__":
    main()
