"""Readers for the standard image formats: idx (optionally gzip), CIFAR-10 python batches, npz.

Every reader returns images as ``[N, C, H, W]`` numpy arrays (uint8, or float32 values as the file
holds them) and int64 labels ``[N]``.
Problems with a file raise a one-line ``ValueError`` naming the path.
"""

from __future__ import annotations

import gzip
import os
import pickle
import zipfile

import numpy as np

_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _open(path: str):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_idx(path: str) -> np.ndarray:
    """An idx file (the MNIST / Fashion-MNIST format), gzip-compressed or not."""
    try:
        with _open(path) as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path}: cannot read idx file ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an idx file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: idx header is truncated")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    count = int(np.prod(shape)) if shape else 1
    if len(data) - header != count * dtype.itemsize:
        raise ValueError(
            f"{path}: idx payload has {len(data) - header} bytes, the header says "
            f"{count * dtype.itemsize}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).copy()


def _as_nchw(x: np.ndarray, path: str) -> np.ndarray:
    if x.ndim == 3:
        return x[:, None]
    if x.ndim == 4:
        # channels-last when the last axis is small and the second is not
        if x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
            return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        return x
    raise ValueError(f"{path}: expected images of shape [N, H, W] or [N, C, H, W], got {x.shape}")


def _as_pixels(x: np.ndarray, path: str) -> np.ndarray:
    """uint8 images as they are; integer images in [0, 255] as uint8; floating-point images of
    any dtype as float32 values as they are (never rescaled or rounded); anything else, and
    non-finite or out-of-range values, a one-line error with the reason."""
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.floating):
        bad = int(x.size - np.count_nonzero(np.isfinite(x)))
        if bad:
            raise ValueError(
                f"{path}: {bad} of {x.size} image values are NaN or infinite; images must be finite"
            )
        return x.astype(np.float32)
    if np.issubdtype(x.dtype, np.integer) and not np.issubdtype(x.dtype, np.bool_):
        lo, hi = (int(x.min()), int(x.max())) if x.size else (0, 0)
        if lo < 0 or hi > 255:
            raise ValueError(
                f"{path}: integer images must lie in [0, 255], found [{lo}, {hi}]; store them "
                "as uint8 or as floats"
            )
        return x.astype(np.uint8)
    raise ValueError(f"{path}: images must be integer or floating point, got {x.dtype}")


def _labels(y: np.ndarray, n: int, path: str) -> np.ndarray:
    y = np.asarray(y).reshape(-1)
    if y.shape[0] != n:
        raise ValueError(f"{path}: {n} images but {y.shape[0]} labels")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{path}: labels must be integers, got {y.dtype}")
    if n and y.min() < 0:
        raise ValueError(f"{path}: labels must be non-negative, got {int(y.min())}")
    return y.astype(np.int64)


Split = tuple[np.ndarray, np.ndarray]


def read_idx_pair(images: str, labels: str) -> Split:
    x = _as_nchw(_as_pixels(read_idx(images), images), images)
    return x, _labels(read_idx(labels), x.shape[0], labels)


def read_npz(path: str) -> tuple[Split, Split | None]:
    """npz with ``x_train, y_train[, x_test, y_test]`` (or ``images, labels``: train only)."""
    try:
        with np.load(path, allow_pickle=False) as d:
            arrays = {k: d[k] for k in d.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: cannot read npz file ({exc})") from None
    if "x_train" in arrays and "y_train" in arrays:
        names = [("x_train", "y_train"), ("x_test", "y_test")]
    elif "images" in arrays and "labels" in arrays:
        names = [("images", "labels")]
    else:
        raise ValueError(
            f"{path}: expected arrays x_train, y_train[, x_test, y_test] or images, labels; "
            f"found {', '.join(sorted(arrays)) or 'none'}"
        )
    splits: list[Split | None] = []
    for xk, yk in names:
        if xk not in arrays:
            splits.append(None)
            continue
        if yk not in arrays:
            raise ValueError(f"{path}: has {xk} but no {yk}")
        x = _as_nchw(_as_pixels(arrays[xk], path), path)
        splits.append((x, _labels(arrays[yk], x.shape[0], path)))
    return splits[0], (splits[1] if len(splits) > 1 else None)


def _unpickle(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read CIFAR-10 batch ({exc})") from None


def read_cifar10_batch(path: str) -> Split:
    """One CIFAR-10 python batch (``data`` [N, 3072] uint8, ``labels``)."""
    d = _unpickle(path)
    d = {(k.decode() if isinstance(k, bytes) else k): v for k, v in d.items()}
    if "data" not in d or "labels" not in d:
        raise ValueError(f"{path}: not a CIFAR-10 python batch (no data/labels)")
    data = np.asarray(d["data"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{path}: CIFAR-10 data must be [N, 3072], got {data.shape}")
    x = data.reshape(-1, 3, 32, 32)
    return x, _labels(np.asarray(d["labels"]), x.shape[0], path)


def read_cifar10_dir(root: str) -> tuple[Split, Split | None]:
    """The CIFAR-10 python directory: data_batch_1..5 and test_batch."""
    train_files = sorted(
        os.path.join(root, f) for f in os.listdir(root) if f.startswith("data_batch_")
    )
    if not train_files:
        raise ValueError(f"{root}: no CIFAR-10 data_batch_* files")
    parts = [read_cifar10_batch(p) for p in train_files]
    train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    test_path = os.path.join(root, "test_batch")
    test = read_cifar10_batch(test_path) if os.path.exists(test_path) else None
    return train, test


def _find_idx(root: str, prefix: str, kind: str) -> str | None:
    for f in sorted(os.listdir(root)):
        if f.startswith(prefix) and kind in f and ("idx" in f or f.endswith(".gz")):
            return os.path.join(root, f)
    return None


def read_idx_dir(root: str) -> tuple[Split, Split | None]:
    """A directory holding ``train-images-idx3-ubyte[.gz]`` etc. (MNIST / Fashion-MNIST)."""
    xtr, ytr = _find_idx(root, "train", "images"), _find_idx(root, "train", "labels")
    if xtr is None or ytr is None:
        raise ValueError(f"{root}: no train-images/train-labels idx files")
    xte, yte = _find_idx(root, "t10k", "images"), _find_idx(root, "t10k", "labels")
    if xte is None:
        xte, yte = _find_idx(root, "test", "images"), _find_idx(root, "test", "labels")
    test = read_idx_pair(xte, yte) if xte is not None and yte is not None else None
    return read_idx_pair(xtr, ytr), test
