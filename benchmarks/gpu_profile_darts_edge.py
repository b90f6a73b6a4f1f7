"""Per-kernel CUDA time of one DartsEdge train step (fused and reference), by torch.profiler.

python benchmarks/gpu_profile_darts_edge.py [N C H W stride]
"""

from __future__ import annotations

import sys

import torch
from gpu_darts_edge import _make
from torch.profiler import ProfilerActivity, profile

from nasfast.bench.cases.darts_edge import step_fn


def main() -> None:
    N, C, H, W, stride = (int(a) for a in (sys.argv[1:6] or (32, 16, 32, 32, 1)))
    ref, fused, x, w, g = _make(N, C, H, W, stride)
    ref, fused = ref.cuda(), fused.cuda()
    x, w, g = x.cuda().requires_grad_(), w.cuda().requires_grad_(), g.cuda()
    for name, m in (("fused", fused), ("reference", ref)):
        step = step_fn(m, x, w, g)
        for _ in range(5):
            step()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(10):
                step()
            torch.cuda.synchronize()
        print(f"==== {name} ({N},{C},{H},{W}) stride {stride}, 10 steps")
        print(
            prof.key_averages().table(
                sort_by="cuda_time_total", row_limit=25, max_name_column_width=60
            )
        )


if __name__ == "__main__":
    main()
