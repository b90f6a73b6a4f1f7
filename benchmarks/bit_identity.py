"""SHA-256 of every output of every registered ``torch.ops.nasfast`` CPU op on fixed inputs.

A regression tool for changes that must not move a bit (refactors, build changes): run it on
the old build with ``--write FILE``, on the new one with ``--check FILE``; every hash must match.

    python benchmarks/bit_identity.py --write before.json
    python benchmarks/bit_identity.py --check before.json

The darts_edge cases run in both CPU layouts (forced through ``nasfast._C._darts_edge_layout``),
strides 1 and 2, float32/float64 (and bfloat16), training and eval, with and without kept
tensors, the GDAS single path and partial gradient needs; channel counts cover the layouts' own
GEMMs and the sizes left to ATen. Hashes are of the raw bytes, so any difference in any bit of
any output shows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterator

import torch

import nasfast._ext  # noqa: F401  (registers torch.ops.nasfast)
from nasfast import _C

ops = torch.ops.nasfast
ALL = (1 << 8) - 1


def digest(value: object) -> str:
    """SHA-256 over the bytes of every tensor in ``value`` (nested lists/tuples), with shapes."""
    h = hashlib.sha256()
    for t in _tensors(value):
        h.update(repr((tuple(t.shape), str(t.dtype))).encode())
        h.update(t.detach().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _tensors(value: object) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v)


def _conv_shapes(C: int, stride: int) -> list[tuple[int, ...]]:
    dw3, dw5, pw = (C, 1, 3, 3), (C, 1, 5, 5), (C, C, 1, 1)
    shapes = [dw3, pw, dw3, pw, dw5, pw, dw5, pw, dw3, pw, dw5, pw]
    return shapes + ([(C // 2, C, 1, 1)] * 2 if stride == 2 else [])


def _edge_inputs(N: int, C: int, H: int, stride: int, dtype: torch.dtype, seed: int):
    g = torch.Generator().manual_seed(seed)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)

    x = randn(N, C, H, H + 1 if stride == 1 else H)
    w = torch.softmax(randn(8).double(), 0).to(dtype)
    cw = [randn(*s) * 0.3 for s in _conv_shapes(C, stride)]
    running = torch.rand((2, 9, C), generator=g, dtype=torch.float64).to(dtype) + 0.5
    return x, w, cw, running, g


def _edge_case(
    N: int,
    C: int,
    H: int,
    stride: int,
    dtype: torch.dtype,
    training: bool,
    save: bool = True,
    active: int = ALL,
    need: tuple[bool, bool, bool] = (True, True, True),
    zero_weight: bool = False,
    channels_last: bool = False,
) -> Callable[[], dict[str, object]]:
    def run() -> dict[str, object]:
        x, w, cw, running, g = _edge_inputs(N, C, H, stride, dtype, seed=N * 1000 + C * 10 + H)
        if zero_weight:
            w = w.clone()
            w[5] = 0
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        out, stats, saved = ops.darts_edge_forward(
            x, w, cw, running, stride, training, 1e-5, active, save
        )
        grad = torch.randn(out.shape, generator=g, dtype=torch.float64).to(out.dtype)
        if channels_last:
            grad = grad.contiguous(memory_format=torch.channels_last)
        back = ops.darts_edge_backward(
            grad, x, w, cw, stats, saved, stride, training, active, *need
        )
        return {"forward": (out, stats, saved), "backward": back}

    return run


def darts_edge_cases() -> dict[str, Callable[[], dict[str, object]]]:
    cases: dict[str, Callable[[], dict[str, object]]] = {}
    f32, f64 = torch.float32, torch.float64
    for s in (1, 2):
        for dt in (f32, f64):
            for train in (True, False):
                cases[f"s{s}_{dt}_train{int(train)}_C16"] = _edge_case(2, 16, 8, s, dt, train)
            cases[f"s{s}_{dt}_C8"] = _edge_case(2, 8, 6, s, dt, True)
        cases[f"s{s}_C6_odd"] = _edge_case(2, 6, 5 if s == 1 else 6, s, f64, True)
        cases[f"s{s}_recompute"] = _edge_case(2, 16, 6, s, f64, True, save=False)
        cases[f"s{s}_alpha_only"] = _edge_case(2, 16, 6, s, f32, True, need=(False, True, False))
        cases[f"s{s}_no_weights"] = _edge_case(2, 16, 6, s, f64, True, need=(True, False, True))
        cases[f"s{s}_x_only"] = _edge_case(2, 16, 6, s, f64, True, need=(True, False, False))
        cases[f"s{s}_zero_weight"] = _edge_case(2, 16, 6, s, f64, True, zero_weight=True)
        cases[f"s{s}_channels_last_io"] = _edge_case(2, 16, 6, s, f32, True, channels_last=True)
        cases[f"s{s}_wide_aten_gemm"] = _edge_case(1, 136, 4, s, f32, True)
        cases[f"s{s}_wide_aten_gemm_f64"] = _edge_case(1, 68, 4, s, f64, False)
        cases[f"s{s}_bf16"] = _edge_case(2, 16, 6, s, torch.bfloat16, True)
        for k in range(1, 8):
            cases[f"s{s}_gdas_op{k}"] = _edge_case(2, 16, 6, s, f32, True, active=1 << k)
        cases[f"s{s}_pools"] = _edge_case(2, 16, 6, s, f64, True, active=0b110)
    return cases


def _running_update() -> dict[str, object]:
    g = torch.Generator().manual_seed(5)
    stats = torch.randn((3, 9, 16), generator=g, dtype=torch.float64)
    mean = [torch.randn(16, generator=g, dtype=torch.float64) for _ in range(3)]
    var = [torch.rand(16, generator=g, dtype=torch.float64) for _ in range(3)]
    count = [torch.zeros((), dtype=torch.long) for _ in range(3)]
    ops.darts_edge_running_update(mean, var, count, stats, [0, 4, 8], 0.1)
    return {"running": (mean, var, count)}


def _mixed_op(dtype: torch.dtype, n: int, K: int, strided: bool) -> Callable[[], object]:
    def run() -> dict[str, object]:
        g = torch.Generator().manual_seed(n + K)
        shape = (n, 2 * 7) if strided else (n, 7)
        outs = [torch.randn(shape, generator=g, dtype=torch.float64).to(dtype) for _ in range(K)]
        if strided:
            outs = [o[:, ::2] for o in outs]
        w = torch.softmax(torch.randn(K, generator=g, dtype=torch.float64), 0).to(dtype)
        y = ops.mixed_op(outs, w)
        grad = torch.randn(y.shape, generator=g, dtype=torch.float64).to(dtype)
        return {"forward": y, "backward": ops.mixed_op_backward(grad, outs, w, True, True)}

    return run


def mixed_op_cases() -> dict[str, Callable[[], object]]:
    cases = {}
    for dt in (torch.float32, torch.float64, torch.bfloat16, torch.float16):
        for n, K in ((3, 1), (611, 8), (4099, 5)):
            cases[f"{dt}_n{n}_K{K}"] = _mixed_op(dt, n, K, strided=False)
        cases[f"{dt}_strided"] = _mixed_op(dt, 300, 4, strided=True)
    return cases


def _row_gather(dtype: torch.dtype) -> Callable[[], object]:
    def run() -> dict[str, object]:
        g = torch.Generator().manual_seed(11)
        x = torch.randn((50, 3, 9), generator=g, dtype=torch.float64).to(dtype)
        idx = torch.randint(0, 50, (80,), generator=g)
        maps = torch.randint(-1, 50, (3, 70), generator=g)
        srcs = [x, x * 2, x[:, :, :].clone()]
        sidx = torch.randint(-1, 20, (50,), generator=g)
        return {
            "gather_rows": ops.gather_rows(x, idx, False),
            "gather_rows_relu": ops.gather_rows(x, idx, True),
            "gather_sum": ops.gather_sum(srcs, maps),
            "scatter_rows": ops.scatter_rows(x, sidx, 20),
        }

    return run


def _pareto(n: int, m: int, seed: int, ties: bool = False) -> Callable[[], object]:
    def run() -> dict[str, object]:
        g = torch.Generator().manual_seed(seed)
        F = torch.rand((n, m), generator=g, dtype=torch.float64)
        if ties:
            F = (F * 4).floor()
        rank = ops.pareto_rank(F)
        ref = F.max(0).values + 0.1
        out: dict[str, object] = {"rank": rank, "crowding": ops.pareto_crowding(F, rank)}
        if n <= 300 or m <= 3:
            out["hypervolume"] = ops.pareto_hypervolume(F, ref)
        return out

    return run


def all_cases() -> dict[str, Callable[[], object]]:
    cases: dict[str, Callable[[], object]] = {}
    for layout in ("nchw", "nhwc"):
        for name, fn in darts_edge_cases().items():
            cases[f"darts_edge/{layout}/{name}"] = _with_layout(layout, fn)
    cases["darts_edge/running_update"] = _running_update
    for name, fn in mixed_op_cases().items():
        cases[f"mixed_op/{name}"] = fn
    for dt in (torch.float32, torch.float64):
        cases[f"row_gather/{dt}"] = _row_gather(dt)
    for n, m in ((7, 1), (200, 2), (300, 3), (250, 4), (120, 5), (3000, 3), (2000, 4)):
        cases[f"pareto/n{n}_m{m}"] = _pareto(n, m, seed=n + m)
    cases["pareto/ties_m3"] = _pareto(400, 3, seed=1, ties=True)
    cases["pareto/ties_m4"] = _pareto(300, 4, seed=2, ties=True)
    return cases


def _with_layout(layout: str, fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        old = _C._darts_edge_layout(layout)
        try:
            return fn()
        finally:
            _C._darts_edge_layout(old)

    return run


def hashes(threads: int) -> dict[str, str]:
    torch.set_num_threads(threads)
    out: dict[str, str] = {}
    for name, fn in all_cases().items():
        result = fn()
        parts = result.items() if isinstance(result, dict) else [("", result)]
        for part, value in parts:
            out[f"{name}:{part}"] = digest(value)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="FILE", help="write the hashes to FILE (JSON)")
    group.add_argument("--check", metavar="FILE", help="compare with the hashes in FILE")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error(f"--threads: expected an int >= 1, got {args.threads}")
    got = hashes(args.threads)
    if args.write:
        with open(args.write, "w") as f:
            json.dump(got, f, indent=1, sort_keys=True)
        print(f"{len(got)} hashes written to {args.write}")
        return 0
    with open(args.check) as f:
        want = json.load(f)
    differ = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
    for k in differ:
        print(f"DIFFERS {k}: {want.get(k, '-')[:12]} -> {got.get(k, '-')[:12]}")
    print(f"{len(got) - len(differ)} of {len(want.keys() | got.keys())} hashes identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
