"""DartsEdge on a CUDA GPU: fused op vs the eager reference and vs torch.compile of the reference.

Train mode, forward+backward, float32, the three shapes of `nasfast bench --filter darts_edge`
plus their stride-2 (reduction) twins. Timed with CUDA events, the three variants interleaved
round by round in one process; the ratio per round is reference / fused and the report gives
the median and IQR over rounds. Before timing, the fused op's output and gradients are
compared with the float64 CPU reference (relative L2 error). Achieved bandwidth is the
floor's bytes (x, out, grad, grad x: 5 tensors of x's size) over the fused step's time.

    python benchmarks/gpu_darts_edge.py --json results.json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
import traceback

import torch

from nasfast.bench.cases.darts_edge import step_fn
from nasfast.bench.environment import environment
from nasfast.nn import DartsEdge

SHAPES = ((32, 16, 32, 32), (64, 16, 32, 32), (32, 64, 8, 8))


def _make(N, C, H, W, stride):
    """Reference and fused edges with equal parameters, and x, weights, output gradient (CPU)."""
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    ref = DartsEdge(C, stride, backend="reference")
    fused = DartsEdge(C, stride, backend="fused")
    fused.load_state_dict(ref.state_dict())
    x = torch.randn(N, C, H, W, generator=gen)
    w = torch.softmax(torch.randn(8, generator=gen), 0)
    Ho, Wo = (H - 1) // stride + 1, (W - 1) // stride + 1
    g = torch.randn(N, C, Ho, Wo, generator=gen)
    return ref, fused, x, w, g


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return float((a - b).norm() / b.norm().clamp_min(1e-300))


def check(N, C, H, W, stride) -> dict[str, float]:
    """Relative L2 error of the fused CUDA float32 step against the float64 CPU reference."""
    ref, fused, x, w, g = _make(N, C, H, W, stride)
    ref = ref.double()
    xr, wr = x.double().requires_grad_(), w.double().requires_grad_()
    yr = ref(xr, wr)
    yr.backward(g.double())
    fused = fused.cuda()
    xf, wf = x.cuda().requires_grad_(), w.cuda().requires_grad_()
    yf = fused(xf, wf)
    yf.backward(g.cuda())
    torch.cuda.synchronize()
    err = {"out": _rel(yf, yr), "grad_x": _rel(xf.grad, xr.grad), "grad_w": _rel(wf.grad, wr.grad)}
    gconv = max(
        _rel(pf.grad, pr.grad)
        for (n, pf), (_, pr) in zip(fused.named_parameters(), ref.named_parameters(), strict=True)
        if pr.grad is not None
    )
    err["grad_conv_max"] = gconv
    err["running_max"] = max(
        _rel(bf, br)
        for (n, bf), (_, br) in zip(fused.named_buffers(), ref.named_buffers(), strict=True)
        if bf.dtype.is_floating_point
    )
    return err


def _time(fn, reps: int) -> float:
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / reps  # ms


def _graphed_step(module, x, w, g):
    """The fused step captured once in a CUDA graph (forward, backward, running-stat update);
    returns its replay. Shows the op's time without the host's launch overhead."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            module(x, w).backward(g)
    torch.cuda.current_stream().wait_stream(side)
    for t in (x, w, *module.parameters()):
        t.grad = None
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        module(x, w).backward(g)
    return graph.replay


def bench(
    N, C, H, W, stride, rounds: int, reps: int, compile_ref: bool, graph: bool = False
) -> dict:
    ref, fused, x, w, g = _make(N, C, H, W, stride)
    ref, fused = ref.cuda(), fused.cuda()
    x, w, g = x.cuda().requires_grad_(), w.cuda().requires_grad_(), g.cuda()
    variants = {"fused": step_fn(fused, x, w, g), "eager": step_fn(ref, x, w, g)}
    graph_error = None
    if graph:
        try:
            fused_g = copy.deepcopy(fused)
            xg, wg = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
            variants["fused_graph"] = _graphed_step(fused_g, xg, wg, g)
        except Exception as e:  # reported, not fatal: the other variants still run
            graph_error = f"{type(e).__name__}: {e}"
    if compile_ref:
        t0 = time.perf_counter()
        comp = torch.compile(ref)
        variants["compiled"] = step_fn(ref, x, w, g, forward=comp)
        variants["compiled"]()
        torch.cuda.synchronize()
        compile_s = time.perf_counter() - t0
    for fn in variants.values():
        for _ in range(3):
            fn()
    torch.cuda.synchronize()
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for k, fn in variants.items():
            times[k].append(_time(fn, reps))
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"shape": [N, C, H, W], "stride": stride, "median_ms": med}
    for k in variants:
        if k == "fused":
            continue
        # vs fused: how much slower variant k is; for fused_graph (< 1) how much the graph saves
        ratios = sorted(b / a for a, b in zip(times["fused"], times[k], strict=True))
        q = statistics.quantiles(ratios, n=4)
        out[f"ratio_vs_{k}"] = {"median": statistics.median(ratios), "q1": q[0], "q3": q[2]}
    elems = N * C * H * W
    floor_bytes = (2 * elems + 3 * elems // (stride * stride)) * 4
    out["floor_bytes"] = floor_bytes
    out["fused_GBps_over_floor"] = floor_bytes / (med["fused"] * 1e-3) / 1e9
    if compile_ref:
        out["compile_s"] = compile_s
    if graph_error:
        out["graph_error"] = graph_error
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=None)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--graph", action="store_true", help="also time the fused step as a CUDA graph")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 2
    report: dict = {"environment": environment(), "checks": [], "timings": []}
    failed = False
    for stride in (1, 2):
        for s in SHAPES:
            try:
                e = check(*s, stride)
                report["checks"].append({"shape": s, "stride": stride, "rel_err": e})
                print(f"check {s} s{stride}: " + ", ".join(f"{k} {v:.1e}" for k, v in e.items()))
                failed |= any(not (v < 1e-4) for v in e.values())
            except Exception:
                traceback.print_exc()
                failed = True
    for stride in (1, 2):
        for s in SHAPES:
            try:
                r = bench(*s, stride, a.rounds, a.reps, not a.no_compile, a.graph)
                report["timings"].append(r)
                print(json.dumps(r), flush=True)
            except Exception:
                traceback.print_exc()
                failed = True
    for r in report["timings"]:
        if "fused_graph" in r["median_ms"]:
            m = r["median_ms"]
            print(
                f"{r['shape']} s{r['stride']}: fused as a CUDA graph {m['fused_graph']:.3f} ms "
                f"(eager / graph {m['eager'] / m['fused_graph']:.2f}x)"
            )
        elif "graph_error" in r:
            print(f"{r['shape']} s{r['stride']}: CUDA graph failed: {r['graph_error']}")
    print(
        f"{'shape':<18}{'s':>2}{'fused ms':>10}{'eager ms':>10}{'comp ms':>10}"
        f"{'x eager':>9}{'x comp':>8}{'GB/s':>8}"
    )
    for r in report["timings"]:
        m = r["median_ms"]
        print(
            f"{str(tuple(r['shape'])):<18}{r['stride']:>2}{m['fused']:>10.3f}{m['eager']:>10.3f}"
            f"{m.get('compiled', float('nan')):>10.3f}{r['ratio_vs_eager']['median']:>9.2f}"
            f"{r.get('ratio_vs_compiled', {}).get('median', float('nan')):>8.2f}"
            f"{r['fused_GBps_over_floor']:>8.0f}"
        )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
