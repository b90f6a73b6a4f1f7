"""Image data sets for the searches: readers for idx(.gz), CIFAR-10 python batches and npz."""

from nasfast.datasets.images import DEFAULT_DATASET, NAMES, ImageData, load_images, resolve
from nasfast.datasets.readers import read_cifar10_batch, read_idx, read_npz

__all__ = [
    "DEFAULT_DATASET",
    "NAMES",
    "ImageData",
    "load_images",
    "read_cifar10_batch",
    "read_idx",
    "read_npz",
    "resolve",
]
