"""A proxy minibatch of real images, shaped for a network's input."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nasfast.datasets import DEFAULT_DATASET, load_images


def proxy_batch(
    dataset: str = DEFAULT_DATASET,
    *,
    n: int = 64,
    shape: tuple[int, int, int] = (3, 32, 32),
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` training images of ``dataset`` drawn under ``seed`` and their labels, as float32
    ``[n, *shape]``: resized (bilinear) to the spatial size and grey images replicated to the
    channels. ``dataset``: a name or path as :func:`nasfast.datasets.load_images` reads them
    (``mnist-small`` ships with nasfast; ``cifar10`` or a CIFAR-10 python directory for users
    who have it; Fashion-MNIST / MNIST idx directories)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected an int >= 1, got {n!r}")
    if len(shape) != 3 or not all(isinstance(v, int) and v >= 1 for v in shape):
        raise ValueError(f"shape: expected (C, H, W) of positive ints, got {shape!r}")
    data = load_images(dataset)
    x, y = data.x_train, data.y_train
    if n > x.shape[0]:
        raise ValueError(f"n: {dataset} has {x.shape[0]} training images, asked for {n}")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(x.shape[0], generator=g)[:n]
    x, y = x[idx], y[idx]
    if tuple(x.shape[2:]) != shape[1:]:
        x = F.interpolate(x, size=shape[1:], mode="bilinear", align_corners=False)
    if x.shape[1] != shape[0]:
        if x.shape[1] != 1:
            raise ValueError(
                f"shape: cannot map {x.shape[1]}-channel images of {dataset} to {shape[0]}"
            )
        x = x.expand(-1, shape[0], -1, -1)
    return x.contiguous(), y
