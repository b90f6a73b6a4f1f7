"""Syntax-check C++ sources with a given compiler command, parsing the shared headers once.

    check_sources.py OUT_DIR -- COMPILER FLAGS... -- SOURCE...

All sources are checked as one translation unit that includes each of them (torch's headers,
most of the cost, are then parsed once). Sources written to be compiled on their own may clash in
one unit (two helpers of the same name in anonymous namespaces, a file compiled once per ISA):
when the unit fails, each source is checked alone, and only a source that fails alone fails the
check. The exit status is 0 when every source passes.
"""

from __future__ import annotations

import os
import subprocess
import sys


def _split(argv: list[str]) -> tuple[str, list[str], list[str]]:
    if argv.count("--") != 2 or argv.index("--") != 1:
        raise SystemExit("usage: check_sources.py OUT_DIR -- COMPILER FLAGS... -- SOURCE...")
    second = argv.index("--", 2)
    return argv[0], argv[2:second], argv[second + 1 :]


def _check(command: list[str], source: str) -> subprocess.CompletedProcess:
    return subprocess.run([*command, source], capture_output=True, text=True)


def main(argv: list[str]) -> int:
    out_dir, command, sources = _split(argv)
    if not sources:
        raise SystemExit("check_sources.py: no sources given")
    os.makedirs(out_dir, exist_ok=True)
    unit = os.path.join(out_dir, "all_sources.cpp")
    with open(unit, "w") as f:
        f.writelines(f'#include "{os.path.abspath(s)}"\n' for s in sources)
    together = _check(command, unit)
    if together.returncode == 0:
        print(f"{len(sources)} sources pass as one unit")
        return 0
    print("one unit failed; checking each source alone", flush=True)
    failed = []
    for source in sources:
        alone = _check(command, source)
        if alone.returncode != 0:
            failed.append(source)
            sys.stdout.write(alone.stdout + alone.stderr)
    if failed:
        print("failed: " + " ".join(failed))
        return 1
    print(f"{len(sources)} sources pass one by one (they clash as one unit):")
    sys.stdout.write(together.stderr[-2000:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
