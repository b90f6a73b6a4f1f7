"""DartsEdge fused vs reference by process CPU time (1 thread), interleaved in one process.

On a shared, oversubscribed machine wall-clock ratios at 2 threads are dominated by scheduling
(the reference's hundreds of small parallel regions suffer most); CPU time of a single thread
measures the work itself. Usage: ``PYTHONPATH=. python benchmarks/darts_edge_cputime.py``.
"""

from __future__ import annotations

import statistics
import time

import torch

from nasfast.bench.cases.darts_edge import _pair


def main(rounds: int = 15) -> None:
    torch.set_num_threads(1)
    shapes = [(32, 16, 32, 32, 1), (64, 16, 32, 32, 1), (32, 64, 8, 8, 1), (32, 16, 32, 32, 2)]
    print("| shape (N,C,H,W) stride | reference ms | fused ms | ratio (median of paired) |")
    print("|---|---|---|---|")
    for N, C, H, W, s in shapes:
        fused, ref = _pair(N, C, H, W, stride=s)
        for f in (fused, ref, fused, ref):
            f()
        tf, tr, ratios = [], [], []
        for r in range(rounds):
            order = (fused, ref) if r % 2 == 0 else (ref, fused)
            t = {}
            for f in order:
                t0 = time.process_time()
                f()
                t[f] = time.process_time() - t0
            tf.append(t[fused])
            tr.append(t[ref])
            ratios.append(t[ref] / t[fused])
        print(
            f"| ({N},{C},{H},{W}) s{s} | {statistics.median(tr) * 1e3:.1f} | "
            f"{statistics.median(tf) * 1e3:.1f} | {statistics.median(ratios):.2f}x |"
        )


if __name__ == "__main__":
    main()
