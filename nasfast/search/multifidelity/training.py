"""A real multi-fidelity objective: NAS-Bench-201 cells trained epoch by epoch on image data.

Each candidate is a network of the NB201 skeleton built from :class:`NB201Supernet` with its
cell fixed, trained by nasfast's own training loop (:class:`TrainRun`: SGD, cosine lr over the
full ``epochs``). ``objective(cell, e)`` continues the candidate's run up to epoch ``e`` and
returns its validation accuracy (in %) there; at the full budget it also reports test accuracy.
A run asked for fewer epochs than it has (or a candidate it dropped) restarts from scratch, which
gives the same numbers: the training of a cell is seeded by the cell alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import torch
from torch import nn

from nasfast.darts.train import TrainConfig, TrainRun, evaluate
from nasfast.datasets import ImageData
from nasfast.nn.nb201_supernet import NB201Supernet
from nasfast.search.multifidelity.problem import Fidelity, MultiFidelityProblem
from nasfast.spaces.nb201 import NB201Space, ops_to_arch_str


class FixedCell(nn.Module):
    """The NB201 network of one cell (a supernet whose every cell uses ``arch``)."""

    def __init__(self, arch: Sequence[int], C: int, N: int, num_classes: int, in_channels: int):
        super().__init__()
        self.arch = [int(v) for v in arch]
        self.net = NB201Supernet(C, N, num_classes, in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, self.arch)


def split_validation(data: ImageData, n_val: int, seed: int = 0) -> tuple[ImageData, ImageData]:
    """(train on the rest with validation as its per-epoch eval split, test data): ``n_val``
    training images held out for validation; the test split stays untouched for reporting."""
    n = data.x_train.shape[0]
    if not 1 <= n_val < n:
        raise ValueError(f"n_val: expected 1 <= n_val < {n} training images, got {n_val}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val, rest = perm[:n_val], perm[n_val:]
    train = replace(
        data,
        x_train=data.x_train[rest],
        y_train=data.y_train[rest],
        x_test=data.x_train[val],
        y_test=data.y_train[val],
    )
    return train, data


class EpochwiseTraining:
    """``objective(cell, epochs)`` for :class:`MultiFidelityProblem` (see the module docstring).

    ``log`` collects one row per epoch trained: cell, epoch, validation accuracy, seconds.
    ``train_seconds`` sums the training time (steps and per-epoch validation).
    """

    def __init__(
        self,
        data: ImageData,
        test: ImageData,
        cfg: TrainConfig,
        *,
        channels: int = 8,
        cells: int = 1,
    ) -> None:
        self.data, self.test, self.cfg = data, test, cfg
        self.channels, self.cells = channels, cells
        self.live: dict[tuple[int, ...], tuple[TrainRun, int]] = {}
        self.log: list[dict] = []
        self.train_seconds = 0.0

    def _start(self, cell: tuple[int, ...]) -> TrainRun:
        torch.manual_seed(self.cfg.seed + NB201Space().index(cell))
        C_in = self.data.shape[0]
        net = FixedCell(cell, self.channels, self.cells, self.data.num_classes, C_in)
        return TrainRun(net, self.data, self.cfg, progress=False)

    def __call__(self, cell: Sequence[int], epochs: int) -> dict:
        key = tuple(int(v) for v in cell)
        run, done = self.live.get(key, (None, 0))
        if run is None or done > epochs:
            run, done = self._start(key), 0
        self.live = {key: (run, done)}  # one live run at a time: candidates go one by one
        for e in range(done + 1, epochs + 1):
            t = time.perf_counter()
            run.run(max_steps=e * run.steps_per_epoch)
            dt = time.perf_counter() - t
            self.train_seconds += dt
            acc = 100.0 * run.test_acc
            self.log.append({"cell": ops_to_arch_str(key), "epoch": e, "val_acc": acc, "s": dt})
        self.live = {key: (run, epochs)}
        out = {"val_acc": 100.0 * run.test_acc, "epochs": epochs}
        if epochs == self.cfg.epochs:
            _, acc = evaluate(run.net, self.test.x_test, self.test.y_test, 256, run.device)
            out["test_acc"] = 100.0 * acc
        return out


def training_problem(objective: EpochwiseTraining) -> MultiFidelityProblem:
    """NB201 cells, ``val_acc`` maximised, fidelity: epochs 1..cfg.epochs, continuing."""
    fid = Fidelity("epochs", 1, objective.cfg.epochs, continues=True)
    return MultiFidelityProblem(
        NB201Space(), objective, ["max:val_acc"], fid, describe=ops_to_arch_str
    )
