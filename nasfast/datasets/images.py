"""Image classification data sets by name or path, held in memory as normalized float tensors.

Names: ``mnist-small`` (3,000 real MNIST digits shipped inside nasfast, the default),
``mnist10k``, ``fashion-mnist``, ``cifar10`` (looked up under the data roots, see
:func:`data_roots`), or a PATH: an ``.npz`` file, an idx(.gz) directory (MNIST layout), or a
CIFAR-10 python directory (``data_batch_*``). Nothing is downloaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from nasfast.datasets.readers import read_cifar10_dir, read_idx_dir, read_npz

PACKAGE_DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")
DEFAULT_DATASET = "mnist-small"
NAMES = ("mnist-small", "mnist10k", "fashion-mnist", "cifar10")

# where a named data set is looked for, each as one of these sub-paths of a data root
_NAMED = {
    "mnist10k": ("mnist10k/mnist_10k.npz", "mnist_10k.npz"),
    "fashion-mnist": ("fashion_mnist", "fashion-mnist"),
    "cifar10": ("cifar-10-batches-py", "cifar10/cifar-10-batches-py", "cifar10"),
}


def data_roots() -> list[str]:
    """``$NASFAST_DATA`` (os.pathsep-separated), ./data, ../shared/data, /work/shared/data,
    /usr/share/datasets (Debian's dataset-* packages)."""
    env = [p for p in os.environ.get("NASFAST_DATA", "").split(os.pathsep) if p]
    return [
        *env,
        "data",
        os.path.join("..", "shared", "data"),
        "/work/shared/data",
        "/usr/share/datasets",
    ]


@dataclass
class ImageData:
    """Train and test splits as float32 ``[N, C, H, W]`` tensors normalized with the train
    set's per-channel mean and std, and int64 labels."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]


def resolve(dataset: str) -> str:
    """The path a data set name or path refers to (one-line ValueError when not found)."""
    if dataset == "mnist-small":
        return os.path.join(PACKAGE_DATA, "mnist_small", "mnist_small.npz")
    if dataset in _NAMED:
        for root in data_roots():
            for sub in _NAMED[dataset]:
                p = os.path.join(root, sub)
                if os.path.exists(p):
                    return p
        raise ValueError(
            f"dataset: {dataset} not found under {', '.join(data_roots())}; "
            "set NASFAST_DATA or give a path"
        )
    if not os.path.exists(dataset):
        raise ValueError(
            f"dataset: expected one of {', '.join(NAMES)} or an existing path, got {dataset!r}"
        )
    return dataset


def _read(path: str):
    if os.path.isdir(path):
        files = os.listdir(path)
        if any(f.startswith("data_batch_") for f in files):
            return read_cifar10_dir(path)
        if any("idx" in f or f.endswith(".gz") for f in files):
            return read_idx_dir(path)
        npz = sorted(f for f in files if f.endswith(".npz"))
        if len(npz) == 1:
            return read_npz(os.path.join(path, npz[0]))
        raise ValueError(f"{path}: no idx, CIFAR-10 or npz files found")
    return read_npz(path)


def load_images(dataset: str = DEFAULT_DATASET, *, test_fraction: float = 1 / 6) -> ImageData:
    """Load a data set by name or path. Sets without a test split get ``test_fraction`` of the
    training images (a fixed, seeded split) as their test set."""
    path = resolve(dataset)
    train, test = _read(path)
    x, y = train
    if x.shape[0] < 4:
        raise ValueError(f"{path}: needs at least 4 training images, got {x.shape[0]}")
    if test is None:
        perm = np.random.default_rng(12345).permutation(x.shape[0])
        n_test = max(1, int(round(x.shape[0] * test_fraction)))
        test = (x[perm[:n_test]], y[perm[:n_test]])
        x, y = x[perm[n_test:]], y[perm[n_test:]]
    if test[0].shape[1:] != x.shape[1:]:
        raise ValueError(f"{path}: test images {test[0].shape[1:]} differ from train {x.shape[1:]}")
    num_classes = int(max(y.max(), test[1].max() if len(test[1]) else 0)) + 1
    xt = torch.from_numpy(x).float().div_(255.0)
    mean = xt.mean(dim=(0, 2, 3), keepdim=True)
    std = xt.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-3)
    xt = xt.sub_(mean).div_(std)
    xs = torch.from_numpy(test[0]).float().div_(255.0).sub_(mean).div_(std)
    return ImageData(
        name=dataset,
        x_train=xt,
        y_train=torch.from_numpy(y),
        x_test=xs,
        y_test=torch.from_numpy(test[1]),
        num_classes=num_classes,
    )
