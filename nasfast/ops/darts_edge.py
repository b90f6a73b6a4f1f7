"""The fused DARTS edge: ``torch.ops.nasfast.darts_edge_forward`` / ``_backward`` with autograd.

The op computes ``sum_k w_k * op_k(x)`` over the eight DARTS primitives in a few passes (see
``csrc/ops/darts_edge/darts_edge_forward.h``) and keeps for backward ``x``, the weights, a small
``[3, 9, C]`` tensor of BatchNorm statistics and the pointwise-conv outputs that feed a
BatchNorm (``saved``: at most 6 tensors of x's size at stride 1, 7 of a quarter of it at stride
2); the backward op recomputes the cheap per-plane intermediates (pools, depthwise stages).
A bfloat16 edge takes and returns bfloat16 and computes in float32 (statistics and ``saved``
are float32).
The module-level entry point is :class:`nasfast.nn.DartsEdge`, whose
``backend="reference"`` is the pure-PyTorch twin.

Layout (shared with the C++ op): ``conv_weights`` are sep3 dw1, pw1, dw2, pw2; sep5 dw1, pw1,
dw2, pw2; dil3 dw, pw; dil5 dw, pw; and at stride 2 FactorizedReduce conv_1, conv_2. BatchNorm
slots: max, avg, FR, sep3 bn1, sep3 bn2, sep5 bn1, sep5 bn2, dil3, dil5.
"""

from __future__ import annotations

import torch

import nasfast._ext  # noqa: F401  (registers torch.ops.nasfast)

NUM_SLOTS = 9
#: primitive index owning each BatchNorm slot
SLOT_OP: tuple[int, ...] = (1, 2, 3, 4, 4, 5, 5, 6, 7)
ALL_OPS = (1 << 8) - 1
#: BatchNorm slots whose pointwise-conv input is kept for backward, in the order of ``saved``
SAVED_SLOTS: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8)


def saved_count(stride: int, active: int) -> int:
    """Number of tensors the forward keeps in ``saved`` for this stride and primitive mask."""
    return sum(1 for s in SAVED_SLOTS if (active >> SLOT_OP[s]) & 1 and (s != 2 or stride == 2))


def io_memory_format(x: torch.Tensor) -> torch.memory_format:
    """The memory format of the edge's output and of grad x for input ``x``: channels-last
    exactly when ``x`` is channels-last contiguous and not also contiguous (as conv2d, the output
    follows the input; the C++ op applies the same rule, ``channels_last_io``)."""
    if (
        x.dim() == 4
        and x.is_contiguous(memory_format=torch.channels_last)
        and not x.is_contiguous()
    ):
        return torch.channels_last
    return torch.contiguous_format


@torch.library.register_fake("nasfast::darts_edge_forward")
def _forward_fake(x, weights, conv_weights, running, stride, training, eps, active, save):
    n, c, h, w = x.shape
    ho, wo = (h - 1) // stride + 1, (w - 1) // stride + 1
    out = x.new_empty((n, c, ho, wo)).contiguous(memory_format=io_memory_format(x))
    # a bfloat16 edge computes in float32 and keeps its statistics and saved tensors in float32
    inner = torch.float32 if x.dtype == torch.bfloat16 else x.dtype
    saved = x.new_empty((saved_count(stride, active), n, c, ho, wo) if save else (0,), dtype=inner)
    return out, x.new_empty((3, NUM_SLOTS, c), dtype=inner), saved


@torch.library.register_fake("nasfast::darts_edge_backward")
def _backward_fake(
    grad,
    x,
    weights,
    conv_weights,
    stats,
    saved,
    stride,
    training,
    active,
    need_x,
    need_weights,
    need_conv,
):
    return (
        x.new_empty(x.shape).contiguous(memory_format=io_memory_format(x)),
        weights.new_empty(weights.shape),
        [w.new_empty(w.shape) for w in conv_weights] if need_conv else [],
    )


@torch.library.register_fake("nasfast::darts_edge_running_update")
def _running_update_fake(running_mean, running_var, num_batches_tracked, stats, slots, momentum):
    return None


# Autograd is registered in C++ (csrc/ops/darts_edge/darts_edge_autograd.cpp): a DARTS step
# runs hundreds of edges, and a Python autograd wrapper cost more per call than a small edge.


def darts_edge_fused(
    x: torch.Tensor,
    weights: torch.Tensor,
    conv_weights: list[torch.Tensor],
    running: torch.Tensor,
    stride: int,
    training: bool,
    eps: float,
    active: int = ALL_OPS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sum_{k in active} w_k op_k(x), stats)``; inputs already validated by the caller."""
    # keep the pointwise outputs only when a backward can follow
    save = torch.is_grad_enabled() and (
        x.requires_grad or weights.requires_grad or any(w.requires_grad for w in conv_weights)
    )
    out, stats, _saved = torch.ops.nasfast.darts_edge_forward(
        x, weights, conv_weights, running, stride, training, eps, active, save
    )
    return out, stats


def _batch_norm(
    z: torch.Tensor, slot: int, running: torch.Tensor, training: bool, eps: float, stats: list
) -> torch.Tensor:
    """BatchNorm without affine parameters: batch statistics (training) or the running ones;
    records slot's [mean, invstd, unbiased var] row of the op's ``stats``."""
    if training:
        mean = z.mean((0, 2, 3))
        var = z.var((0, 2, 3), unbiased=False)
        stats[slot] = torch.stack([mean, torch.rsqrt(var + eps), z.var((0, 2, 3))]).detach()
    else:
        mean, var = running[0, slot], running[1, slot]
    return (z - mean.view(1, -1, 1, 1)) * torch.rsqrt(var + eps).view(1, -1, 1, 1)


def darts_edge_reference(
    x: torch.Tensor,
    weights: torch.Tensor,
    conv_weights: list[torch.Tensor],
    running: torch.Tensor,
    stride: int,
    training: bool,
    eps: float,
    active: int = ALL_OPS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pure-PyTorch twin of :func:`darts_edge_fused`: ``(sum_{k in active} w_k op_k(x), stats)``
    with the DARTS primitives of ``nasfast.nn.darts_primitives`` written as functions over the
    op's ``conv_weights`` layout (inputs already validated)."""
    C = x.shape[1]
    F = torch.nn.functional
    cw = conv_weights
    if training:
        stats: list = [x.new_zeros((3, C)) for _ in range(NUM_SLOTS)]
    else:
        stats = [
            torch.stack([running[0, s], torch.rsqrt(running[1, s] + eps), running[1, s]])
            for s in range(NUM_SLOTS)
        ]

    def bn(slot: int, z: torch.Tensor) -> torch.Tensor:
        return _batch_norm(z, slot, running, training, eps, stats)

    def dw(t: torch.Tensor, w: torch.Tensor, s: int, pad: int, dil: int) -> torch.Tensor:
        return F.conv2d(t, w, stride=s, padding=pad, dilation=dil, groups=C)

    def sep(t: torch.Tensor, i: int, k: int, slot: int) -> torch.Tensor:
        h = F.relu(bn(slot, F.conv2d(dw(t, cw[i], stride, k // 2, 1), cw[i + 1])))
        return bn(slot + 1, F.conv2d(dw(h, cw[i + 2], 1, k // 2, 1), cw[i + 3]))

    r = F.relu(x)
    ops = {
        1: lambda: bn(0, F.max_pool2d(x, 3, stride, 1)),
        2: lambda: bn(1, F.avg_pool2d(x, 3, stride, 1, count_include_pad=False)),
        3: lambda: (
            x
            if stride == 1
            else bn(
                2,
                torch.cat(
                    [F.conv2d(r, cw[12], stride=2), F.conv2d(r[:, :, 1:, 1:], cw[13], stride=2)], 1
                ),
            )
        ),
        4: lambda: sep(r, 0, 3, 3),
        5: lambda: sep(r, 4, 5, 5),
        6: lambda: bn(7, F.conv2d(dw(r, cw[8], stride, 2, 2), cw[9])),
        7: lambda: bn(8, F.conv2d(dw(r, cw[10], stride, 4, 2), cw[11])),
    }
    terms = [weights[k] * op() for k, op in ops.items() if (active >> k) & 1]
    if not terms:  # only `none`: zeros
        n, _, h, w = x.shape
        return x.new_zeros((n, C, (h - 1) // stride + 1, (w - 1) // stride + 1)), stats_of(stats)
    return sum(terms[1:], terms[0]), stats_of(stats)


def stats_of(rows: list) -> torch.Tensor:
    """The op's ``[3, NUM_SLOTS, C]`` statistics from one ``[3, C]`` row per slot."""
    return torch.stack(rows, 1)
