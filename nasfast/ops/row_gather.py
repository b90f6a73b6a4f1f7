"""Row gather/scatter between stacked per-candidate tensors (batched candidate evaluation).

A tensor is read as rows along dim 0 (one row = one candidate's ``[B, C, H, W]`` activations).

- ``gather_rows(x, index, relu)``: ``x[index]``, optionally ReLU'd in the same pass.
- ``gather_sum(srcs, maps)``: ``out[r] = sum_k srcs[k][maps[k, r]]`` over the ``k`` with
  ``maps[k, r] >= 0`` (zeros where none): the scatter-add of several op outputs into a node sum,
  written once per output row.
- ``scatter_rows(src, index, rows)``: ``out[index[i]] += src[i]`` (``-1`` skipped), the adjoint
  of both, used by their backward passes.

Each runs as ``torch.ops.nasfast.*`` (``backend="fused"``) or as its pure-PyTorch twin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch

import nasfast._ext  # noqa: F401  (registers torch.ops.nasfast)
from nasfast.ops._validate import require_backend, require_floating, require_like, require_tensor

Backend = Literal["fused", "reference"]


@torch.library.register_fake("nasfast::gather_rows")
def _gather_rows_fake(x: torch.Tensor, index: torch.Tensor, relu: bool = False) -> torch.Tensor:
    return x.new_empty((index.shape[0], *x.shape[1:]))


@torch.library.register_fake("nasfast::gather_sum")
def _gather_sum_fake(srcs: list[torch.Tensor], maps: torch.Tensor) -> torch.Tensor:
    return srcs[0].new_empty((maps.shape[1], *srcs[0].shape[1:]))


@torch.library.register_fake("nasfast::scatter_rows")
def _scatter_rows_fake(src: torch.Tensor, index: torch.Tensor, rows) -> torch.Tensor:
    return src.new_empty((rows, *src.shape[1:]))


def _gather_rows_setup(ctx, inputs, output) -> None:
    x, index, relu = inputs
    ctx.rows = x.shape[0]
    ctx.relu = relu
    ctx.save_for_backward(index, output if relu else None)


def _gather_rows_backward(ctx, grad: torch.Tensor):
    index, out = ctx.saved_tensors
    if ctx.relu:
        grad = grad * (out > 0)
    return torch.ops.nasfast.scatter_rows(grad, index, ctx.rows), None, None


def _gather_sum_setup(ctx, inputs, output) -> None:
    srcs, maps = inputs
    ctx.src_rows = [s.shape[0] for s in srcs]
    ctx.save_for_backward(maps)


def _gather_sum_backward(ctx, grad: torch.Tensor):
    (maps,) = ctx.saved_tensors
    grads = [torch.ops.nasfast.scatter_rows(grad, maps[k], n) for k, n in enumerate(ctx.src_rows)]
    return grads, None


def _scatter_rows_setup(ctx, inputs, output) -> None:
    src, index, rows = inputs
    ctx.save_for_backward(index)


def _scatter_rows_backward(ctx, grad: torch.Tensor):
    (index,) = ctx.saved_tensors
    return torch.ops.nasfast.gather_sum([grad], index.unsqueeze(0)), None, None


torch.library.register_autograd(
    "nasfast::gather_rows", _gather_rows_backward, setup_context=_gather_rows_setup
)
torch.library.register_autograd(
    "nasfast::gather_sum", _gather_sum_backward, setup_context=_gather_sum_setup
)
torch.library.register_autograd(
    "nasfast::scatter_rows", _scatter_rows_backward, setup_context=_scatter_rows_setup
)


def _require_index(index: object, name: str, ref: torch.Tensor, dim: int) -> torch.Tensor:
    require_tensor(index, name)
    if index.dtype != torch.int64 or index.dim() != dim:
        raise ValueError(
            f"{name}: expected a {dim}-D int64 tensor, got {index.dtype} of shape "
            f"{tuple(index.shape)}"
        )
    if index.device != ref.device:
        raise ValueError(f"{name}: expected device {ref.device}, got {index.device}")
    return index


def _require_range(index: torch.Tensor, name: str, lo: int, hi: int) -> None:
    if index.numel() and (int(index.min()) < lo or int(index.max()) >= hi):
        raise ValueError(
            f"{name}: expected values in [{lo}, {hi}), got min {int(index.min())} "
            f"max {int(index.max())}"
        )


def _require_rows(x: object, name: str) -> torch.Tensor:
    require_tensor(x, name)
    require_floating(x, name)
    if x.dim() < 1:
        raise ValueError(f"{name}: expected at least 1 dimension, got a scalar")
    return x


def gather_rows(
    x: torch.Tensor, index: torch.Tensor, *, relu: bool = False, backend: Backend = "fused"
) -> torch.Tensor:
    """``x[index]`` (rows along dim 0), with ``relu`` applied in the same pass when asked."""
    require_backend(backend)
    _require_rows(x, "x")
    _require_index(index, "index", x, 1)
    _require_range(index, "index", 0, x.shape[0])
    if backend == "reference":
        return gather_rows_reference(x, index, relu=relu)
    return torch.ops.nasfast.gather_rows(x, index, bool(relu))


def gather_sum(
    srcs: Sequence[torch.Tensor], maps: torch.Tensor, *, backend: Backend = "fused"
) -> torch.Tensor:
    """``out[r] = sum_k srcs[k][maps[k, r]]`` over the ``k`` with ``maps[k, r] >= 0``.

    ``srcs``: K >= 1 tensors whose rows have one shape; ``maps``: int64 ``[K, R]``.
    """
    require_backend(backend)
    if not isinstance(srcs, (list, tuple)) or len(srcs) == 0:
        raise ValueError("srcs: expected a non-empty list of tensors")
    first = _require_rows(srcs[0], "srcs[0]")
    for k, s in enumerate(srcs):
        _require_rows(s, f"srcs[{k}]")
        require_like(s, first, f"srcs[{k}]", "srcs[0]")
        if s.shape[1:] != first.shape[1:]:
            raise ValueError(
                f"srcs[{k}]: expected rows of shape {tuple(first.shape[1:])} (as srcs[0]), "
                f"got shape {tuple(s.shape)}"
            )
    _require_index(maps, "maps", first, 2)
    if maps.shape[0] != len(srcs):
        raise ValueError(f"maps: expected {len(srcs)} rows (one per source), got {maps.shape[0]}")
    for k, s in enumerate(srcs):
        _require_range(maps[k], f"maps[{k}]", -1, s.shape[0])
    if backend == "reference":
        return gather_sum_reference(list(srcs), maps)
    return torch.ops.nasfast.gather_sum(list(srcs), maps)


def scatter_rows(
    src: torch.Tensor, index: torch.Tensor, rows: int, *, backend: Backend = "fused"
) -> torch.Tensor:
    """``out = zeros(rows, ...)``; ``out[index[i]] += src[i]`` for every ``index[i] >= 0``."""
    require_backend(backend)
    _require_rows(src, "src")
    _require_index(index, "index", src, 1)
    if not isinstance(rows, int) or rows < 0:
        raise ValueError(f"rows: expected a non-negative int, got {rows!r}")
    if index.shape[0] != src.shape[0]:
        raise ValueError(
            f"index: expected {src.shape[0]} entries (rows of src), got {index.shape[0]}"
        )
    _require_range(index, "index", -1, rows)
    if backend == "reference":
        return scatter_rows_reference(src, index, rows)
    return torch.ops.nasfast.scatter_rows(src, index, rows)


def gather_rows_reference(
    x: torch.Tensor, index: torch.Tensor, *, relu: bool = False
) -> torch.Tensor:
    """Pure-PyTorch twin of ``torch.ops.nasfast.gather_rows`` (inputs already validated)."""
    out = x.index_select(0, index)
    return torch.relu(out) if relu else out


def scatter_rows_reference(src: torch.Tensor, index: torch.Tensor, rows: int) -> torch.Tensor:
    """Pure-PyTorch twin of ``torch.ops.nasfast.scatter_rows`` (inputs already validated)."""
    keep = index >= 0
    out = src.new_zeros((rows, *src.shape[1:]))
    return out.index_add(0, index[keep], src[keep])


def gather_sum_reference(srcs: list[torch.Tensor], maps: torch.Tensor) -> torch.Tensor:
    """Pure-PyTorch twin of ``torch.ops.nasfast.gather_sum`` (inputs already validated)."""
    out = srcs[0].new_zeros((maps.shape[1], *srcs[0].shape[1:]))
    for s, m in zip(srcs, maps, strict=True):
        keep = (m >= 0).nonzero().squeeze(1)
        out = out.index_add(0, keep, s.index_select(0, m[keep]))
    return out
