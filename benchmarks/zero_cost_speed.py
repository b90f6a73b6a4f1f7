"""Batched zero-cost scoring of 64 NB201 candidates vs the per-candidate loop: ratios and FLOPs.

    python benchmarks/zero_cost_speed.py [--rounds 10] [--threads 1]

Times every ``zero-cost`` case of the ``nasfast bench`` registry (paired, interleaved rounds in
one process) and counts the FLOPs each side executes once (``torch.utils.flop_counter``:
convolutions forward and backward and matrix products, a multiply-add = 2 FLOPs): the loop's
count is the floor of P separate forward+backward passes. Writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import math
import os

import torch
from torch.utils.flop_counter import FlopCounterMode
from tqdm import tqdm

from nasfast.bench import all_cases, measure
from nasfast.bench.environment import environment


def conv_backward_flops(grad_out_shape, x_shape, w_shape, *args, out_shape=None, **kw) -> int:
    """FLOPs of ``aten.convolution_backward`` (not transposed), grouped ones included: per
    output gradient element a multiply-add over ``w_shape[1:]`` for each gradient asked for.
    (torch's own formula multiplies a grouped weight gradient by the group count.)"""
    output_mask = args[-1]
    per_pass = 2 * math.prod(grad_out_shape) * math.prod(w_shape[1:])
    return per_pass * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


def flops(fn) -> int:
    counter = FlopCounterMode(
        display=False, custom_mapping={torch.ops.aten.convolution_backward: conv_backward_flops}
    )
    with counter:
        fn()
    return int(counter.get_total_flops())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--filter", default="")
    ap.add_argument("--out", default="benchmarks/results/zero_cost_speed.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cases = [c for c in all_cases() if c.group == "zero-cost" and args.filter in c.name]
    rows = []
    for case in tqdm(cases, desc="cases", unit="case"):
        fast, base = case.setup()
        m = measure(case, rounds=args.rounds, min_round_s=0.0).as_dict()
        m["flops_batched"], m["flops_loop"] = flops(fast), flops(base)
        m["flop_ratio"] = m["flops_loop"] / max(m["flops_batched"], 1)
        rows.append(m)
        write(args.out, rows)
        print(
            f"{case.name}: {m['ratio']:.2f}x (IQR {m['ratio_q25']:.2f}-{m['ratio_q75']:.2f}), "
            f"GFLOP batched {m['flops_batched'] / 1e9:.2f} loop {m['flops_loop'] / 1e9:.2f}"
        )
    print(f"wrote {args.out}")


def write(path: str, rows: list[dict]) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"environment": environment(), "results": rows}, f, indent=1)


if __name__ == "__main__":
    main()
