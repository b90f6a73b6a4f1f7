"""The NB201 supernet speed curve: batched candidate evaluation vs the per-candidate loop.

For P = 16 .. 1024 candidates (random, and children of a few mutated parents as an evolution
step makes them) x 16 images of 32x32, C=8, N=1, eval, no grad: the interleaved ratio of the
loop's time to ``forward_candidates``'s. For P above ``--loop-max`` the loop runs over the first
``--loop-max`` candidates (interleaved with the full batched pass) and its time is scaled by
P / loop-max: the loop shares no work, so its time is linear in P (the table marks these rows).

    PYTHONPATH=. python benchmarks/supernet_curve.py --threads 2
writes benchmarks/results/supernet_curve.md (machine, torch version, commit).
"""

from __future__ import annotations

import argparse
import os

import torch

from nasfast.bench.cases.supernet import (
    floor,
    mutated_population,
    random_population,
    setup_pair,
)
from nasfast.bench.environment import environment
from nasfast.bench.registry import Case
from nasfast.bench.runner import measure


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="16,32,64,128,256,512,1024")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--loop-max", type=int, default=128)
    p.add_argument("--out", default=None)
    p.add_argument(
        "--channels-last-at",
        type=int,
        default=64,
        help="also compare with a channels-last loop at this P (0: skip)",
    )
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    sizes = [int(s) for s in args.sizes.split(",")]
    env = environment()
    lines = [
        "# NB201 supernet: batched candidate evaluation vs per-candidate loop",
        "",
        f"- date: {env['date']}, commit: {env['commit']}, torch {env['torch']}, "
        f"threads {env['torch_threads']}, cpu: {env['cpu']} ({env['cpu_count']} cores)",
        "- 16 images 32x32, C=8, N=1, eval mode, no grad; ratio = loop time / batched time, "
        f"median of {args.rounds} interleaved rounds (IQR in brackets).",
        "- random: uniform op codes; mutated: children of 4 random parents, one edge changed each.",
        "- `*`: loop timed on the first loop-max candidates and scaled by P / loop-max.",
        "",
        "| population | P | distinct | conv work loop/batched | loop ms | batched ms | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, make in (("random", random_population), ("mutated", mutated_population)):
        for P in sizes:
            archs = make(P)
            n_loop = min(P, args.loop_max)
            fast, _ = setup_pair(archs)
            _, loop = setup_pair(archs[:n_loop])
            case = Case(f"{kind} P={P}", "supernet", lambda f=fast, g=loop: (f, g))
            m = measure(case, rounds=args.rounds, min_round_s=0.0)
            scale = P / n_loop
            work = floor(archs).split("(")[-1].split("x less")[0]
            mark = "*" if n_loop < P else ""
            lines.append(
                f"| {kind} | {P} | {len(torch.unique(archs, dim=0))} | {work.strip()}x | "
                f"{m.baseline_ms * scale:.0f}{mark} | {m.fast_ms:.0f} | "
                f"{m.ratio * scale:.2f}x "
                f"[{m.ratio_q25 * scale:.2f}-{m.ratio_q75 * scale:.2f}]{mark} |"
            )
            print(lines[-1], flush=True)
    if args.channels_last_at:
        archs = random_population(args.channels_last_at)
        fast, _ = setup_pair(archs)
        _, loop = setup_pair(archs, channels_last_loop=True)
        m = measure(
            Case("cl", "supernet", lambda: (fast, loop)), rounds=args.rounds, min_round_s=0.0
        )
        lines += [
            "",
            f"Against a loop whose model and images are in channels-last layout (random, "
            f"P={args.channels_last_at}): {m.ratio:.2f}x [{m.ratio_q25:.2f}-{m.ratio_q75:.2f}] "
            f"(loop {m.baseline_ms:.0f} ms, batched {m.fast_ms:.0f} ms).",
        ]
        print(lines[-1])
    if torch.cuda.is_available():
        lines.append(f"\nGPU: {env.get('gpu')}")
    out = args.out or os.path.join(os.path.dirname(__file__), "results", "supernet_curve.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
