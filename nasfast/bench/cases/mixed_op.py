"""mixed_op: fused forward+backward vs the reference twin."""

from __future__ import annotations

import torch

from nasfast.bench.registry import bench_case
from nasfast.ops import mixed_op


def _fwd_bwd_pair(K: int, shape: tuple[int, ...], dtype: torch.dtype):
    gen = torch.Generator().manual_seed(0)
    outs = [torch.randn(shape, generator=gen, dtype=dtype).requires_grad_() for _ in range(K)]
    alpha = torch.randn(K, generator=gen, dtype=dtype).requires_grad_()
    grad = torch.randn(shape, generator=gen, dtype=dtype)

    def run(backend: str):
        def step():
            y = mixed_op(outs, alpha, backend=backend)
            torch.autograd.backward(y, grad)
            for t in (*outs, alpha):
                t.grad = None

        return step

    return run("fused"), run("reference")


def _floor(K: int, shape: tuple[int, ...], itemsize: int) -> str:
    n = 1
    for s in shape:
        n *= s
    # forward reads K inputs, writes 1; backward reads grad + K inputs, writes K grads.
    mb = (K + 1 + 1 + K + K) * n * itemsize / 1e6
    return f"{mb:.0f} MB moved (fwd {K}+1, bwd 1+{K}+{K} tensors of {n * itemsize / 1e6:.1f} MB)"


@bench_case(
    "mixed_op fwd+bwd K=8 (64,16,32,32) f32",
    group="mixed_op",
    target=1.5,
    floor=_floor(8, (64, 16, 32, 32), 4),
)
def _k8_f32():
    return _fwd_bwd_pair(8, (64, 16, 32, 32), torch.float32)


@bench_case(
    "mixed_op fwd+bwd K=8 (16,16,32,32) bf16",
    group="mixed_op",
    quick=False,
    floor=_floor(8, (16, 16, 32, 32), 2),
)
def _k8_bf16():
    return _fwd_bwd_pair(8, (16, 16, 32, 32), torch.bfloat16)
