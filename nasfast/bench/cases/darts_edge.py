"""DartsEdge: the fused DARTS edge vs the reference Python loop, train mode, forward+backward."""

from __future__ import annotations

import torch

from nasfast.bench.registry import bench_case
from nasfast.bench.saved_bytes import saved_tensor_bytes
from nasfast.nn import DartsEdge

SHAPES: tuple[tuple[int, int, int, int], ...] = ((32, 16, 32, 32), (64, 16, 32, 32), (32, 64, 8, 8))


def step_fn(m: DartsEdge, x: torch.Tensor, w: torch.Tensor, g: torch.Tensor, forward=None):
    """One train step of edge ``m`` (through ``forward``, e.g. its compiled form, when given):
    forward, backward of ``g``, gradients cleared."""
    params = list(m.parameters())
    fwd = m if forward is None else forward

    def step():
        fwd(x, w).backward(g)
        for t in (x, w, *params):
            t.grad = None

    return step


def _pair(
    N: int,
    C: int,
    H: int,
    W: int,
    stride: int = 1,
    dtype=torch.float32,
    device: str = "cpu",
    compile_reference: bool = False,
):
    """(fused step, reference step): one train-mode forward+backward each, same parameters.
    ``compile_reference`` runs the reference through ``torch.compile`` (compiled here, once)."""
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    ref = DartsEdge(C, stride, backend="reference").to(dtype)
    fused = DartsEdge(C, stride, backend="fused").to(dtype)
    fused.load_state_dict(ref.state_dict())
    ref, fused = ref.to(device), fused.to(device)
    x = torch.randn(N, C, H, W, generator=gen, dtype=dtype).to(device).requires_grad_()
    w = torch.softmax(torch.randn(8, generator=gen, dtype=dtype), 0).to(device).requires_grad_()
    g = torch.randn(N, C, (H - 1) // stride + 1, (W - 1) // stride + 1, generator=gen, dtype=dtype)
    g = g.to(device)

    ref_step = step_fn(ref, x, w, g, torch.compile(ref) if compile_reference else None)
    if compile_reference:
        ref_step()  # compile outside the timed rounds
    return step_fn(fused, x, w, g), ref_step


def floor(N: int, C: int, H: int, W: int, itemsize: int = 4) -> str:
    """Least work of one train-mode forward+backward (stride 1)."""
    elems = N * C * H * W
    # depthwise MACs per element: first stage 9+25+9+25, sep second stage 9+25; 6 pointwise CxC.
    macs_fwd = elems * (102 + 6 * C)
    gflop = 2 * 3 * macs_fwd / 1e9  # forward + backward (~2x forward)
    min_mb = 5 * elems * itemsize / 1e6  # read x, write out; read x and grad, write grad x
    bn_mb = 2 * 9 * elems * itemsize / 1e6  # each of 9 BN inputs written and read once
    return (
        f"{gflop:.2f} GFLOP; bytes >= {min_mb:.0f} MB (x, out, grad, grad x), "
        f"~{min_mb + bn_mb:.0f} MB with the 9 BatchNorm batch barriers materialised"
    )


def _register(N: int, C: int, H: int, W: int, quick: bool) -> None:
    @bench_case(
        f"darts_edge fwd+bwd train ({N},{C},{H},{W}) f32",
        group="darts_edge",
        quick=quick,
        target=5.0,
        floor=floor(N, C, H, W),
    )
    def _case():
        return _pair(N, C, H, W)


for _i, _s in enumerate(SHAPES):
    _register(*_s, quick=_i == 0)


def _register_cuda(N: int, C: int, H: int, W: int, stride: int, compiled: bool) -> None:
    # run only where a GPU is (nasfast bench skips device="cuda" cases otherwise)
    base = "torch.compile(reference)" if compiled else "reference"

    @bench_case(
        f"darts_edge cuda fwd+bwd train ({N},{C},{H},{W}) s{stride} f32"
        + (" vs compiled" if compiled else ""),
        group="darts_edge",
        quick=stride == 1 and (N, C, H, W) == SHAPES[0],
        target=2.0 if compiled else 5.0,
        floor=floor(N, C, H, W),
        baseline=base,
        device="cuda",
    )
    def _case():
        return _pair(N, C, H, W, stride, device="cuda", compile_reference=compiled)


for _s in SHAPES:
    for _stride in (1, 2):
        for _compiled in (False, True):
            _register_cuda(*_s, _stride, _compiled)


def saved_bytes_report(N: int = 32, C: int = 16, H: int = 32, W: int = 32) -> list[str]:
    """Bytes saved for backward by each backend (stride 1 and 2), as report lines."""
    lines = []
    for stride in (1, 2):
        torch.manual_seed(0)
        ref = DartsEdge(C, stride, backend="reference")
        fused = DartsEdge(C, stride, backend="fused")
        x = torch.randn(N, C, H, W, requires_grad=True)
        w = torch.softmax(torch.randn(8), 0).requires_grad_()
        ru, rt = saved_tensor_bytes(lambda ref=ref, x=x, w=w: ref(x, w))
        fu, ft = saved_tensor_bytes(lambda fused=fused, x=x, w=w: fused(x, w))
        lines.append(
            f"stride {stride} ({N},{C},{H},{W}) f32: reference {ru / 1e6:.1f} MB unique "
            f"({rt / 1e6:.1f} MB as packed), fused {fu / 1e6:.2f} MB: ratio {fu / ru:.3f} "
            f"(x itself is {x.numel() * 4 / 1e6:.1f} MB)"
        )
    return lines
