"""Rewrites a .cu file for the CUDA host emulation (include/cuda_runtime.h).

`kernel<T, 1><<<grid, block, shmem, stream>>>(args)` becomes
`::nasfast_emu::Launch(grid, block, shmem, stream).run(kernel<T, 1>, args)`, and
`extern __shared__ T name[];` becomes a pointer to the block's dynamic shared memory. Nothing
else changes, and a #line directive keeps compiler messages pointing at the .cu file.

Usage: translate_launches.py IN.cu OUT.cpp
"""

import re
import sys
from pathlib import Path

# a kernel name, with template arguments without nested angle brackets, then the launch config
LAUNCH = re.compile(r"([A-Za-z_][\w:]*(?:<[^<>;{}]*>)?)\s*<<<(.*?)>>>\s*\(", re.DOTALL)
DYNAMIC_SHARED = re.compile(r"extern\s+__shared__\s+([\w:]+)\s+(\w+)\s*\[\s*\]\s*;")


def translate(source: str) -> str:
    def launch(m: re.Match[str]) -> str:
        return f"::nasfast_emu::Launch({m.group(2)}).run({m.group(1)}, "

    out = DYNAMIC_SHARED.sub(
        r"\1* const \2 = static_cast<\1*>(::nasfast_emu::dynamic_shared());", source
    )
    out, n = LAUNCH.subn(launch, out)
    if "<<<" in out or ">>>" in out:
        raise SystemExit("translate_launches: a launch it could not rewrite is left")
    if n == 0:
        raise SystemExit("translate_launches: no kernel launch found")
    return out


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    text = f'#line 1 "{src}"\n' + translate(src.read_text())
    if not dst.exists() or dst.read_text() != text:
        dst.write_text(text)


if __name__ == "__main__":
    main()
