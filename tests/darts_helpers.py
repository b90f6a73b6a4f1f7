"""Tiny data and settings shared by the DARTS tests (kept small: 2 busy cores)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasfast.darts.search import SearchConfig
from nasfast.datasets import ImageData

BACKENDS = ("reference", "fused")


def tiny_data(n: int = 48, size: int = 8, classes: int = 3, channels: int = 1, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    x = torch.randn(n, channels, size, size, generator=g) + y.view(n, 1, 1, 1).float()
    return ImageData("tiny", x, y, x[:16].clone(), y[:16].clone(), classes)


def write_tiny_npz(path: str, n: int = 40, size: int = 8, classes: int = 3) -> str:
    rng = np.random.default_rng(0)
    y = rng.integers(0, classes, n).astype(np.uint8)
    x = (rng.random((n, size, size)) * 60 + y[:, None, None] * 60).astype(np.uint8)
    np.savez(path, x_train=x, y_train=y, x_test=x[:8], y_test=y[:8])
    return path


def tiny_config(**kw) -> SearchConfig:
    base = dict(
        dataset="tiny",
        epochs=2,
        batch_size=8,
        channels=2,
        layers=1,
        backend="reference",
        seed=3,
    )
    base.update(kw)
    return SearchConfig(**base)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny ops: extra threads only add contention on a busy 2-core machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def cli_error(capsys, argv: list[str]) -> str:
    """Run ``nasfast ARGV``; assert it failed with exit status 2 and one line on stderr."""
    from nasfast.cli.main import main

    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's own errors exit
        rc = e.code
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1, err
    return err
