"""What a proxy is scored on: a minibatch ``(x, y)``, images ``x``, or only an input shape."""

from __future__ import annotations

from dataclasses import dataclass

import torch

# Batch size the data-free proxies that need more than one input (zen) use for a bare shape.
DEFAULT_SHAPE_BATCH = 16


@dataclass(frozen=True)
class Batch:
    """Validated proxy input. ``shape`` is one input's shape (e.g. ``(3, 32, 32)``);
    ``size`` the number of inputs; ``x`` / ``y`` are None when only a shape was given."""

    x: torch.Tensor | None
    y: torch.Tensor | None
    shape: tuple[int, ...]
    size: int


def _check_shape(shape: tuple[object, ...], given: object) -> tuple[int, ...]:
    ok = len(shape) >= 1 and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape
    )
    if not ok:
        raise ValueError(f"batch: expected an input shape of positive ints, got {given!r}")
    return tuple(int(v) for v in shape)  # type: ignore[arg-type]


def _check_x(x: torch.Tensor) -> torch.Tensor:
    if not x.is_floating_point():
        raise ValueError(f"batch: expected floating-point inputs x, got dtype {x.dtype}")
    if x.dim() < 2 or x.shape[0] == 0:
        raise ValueError(f"batch: expected inputs x of shape [B >= 1, ...], got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("batch: inputs x hold NaN or infinite values")
    return x


def _check_y(y: object, n: int) -> torch.Tensor:
    if not isinstance(y, torch.Tensor) or y.is_floating_point() or y.dtype == torch.bool:
        what = y.dtype if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"batch: expected integer class labels y, got {what}")
    if y.shape != (n,):
        raise ValueError(
            f"batch: expected labels y of shape [{n}] (one per input), got {tuple(y.shape)}"
        )
    if int(y.min()) < 0:
        raise ValueError(f"batch: expected labels y >= 0, got {int(y.min())}")
    return y.long()


def as_batch(batch_or_shape: object) -> Batch:
    """``(x, y)``, ``(x, None)``, a tensor ``x``, or a shape (``(C, H, W)`` or ``(B, C, H, W)``
    for image models; any per-input shape with a leading batch dim for 4+ entries)."""
    if isinstance(batch_or_shape, torch.Tensor):
        x = _check_x(batch_or_shape)
        return Batch(x, None, tuple(x.shape[1:]), x.shape[0])
    if (
        isinstance(batch_or_shape, (tuple, list))
        and len(batch_or_shape) == 2
        and isinstance(batch_or_shape[0], torch.Tensor)
    ):
        x = _check_x(batch_or_shape[0])
        y = batch_or_shape[1]
        y = None if y is None else _check_y(y, x.shape[0]).to(x.device)
        return Batch(x, y, tuple(x.shape[1:]), x.shape[0])
    if isinstance(batch_or_shape, (tuple, list, torch.Size)):
        shape = _check_shape(tuple(batch_or_shape), batch_or_shape)
        if len(shape) >= 4:
            return Batch(None, None, shape[1:], shape[0])
        return Batch(None, None, shape, DEFAULT_SHAPE_BATCH)
    raise ValueError(
        f"batch: expected (x, y), a tensor x or an input shape, got {type(batch_or_shape).__name__}"
    )
