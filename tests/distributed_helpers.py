"""The work the data-parallel tests run in their processes (``nasfast.distributed.run_local``:
a file store, no listening socket; torchrun's TCP store would listen on every interface). It lives
here, at module level, so the spawned children can import it."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from nasfast.distributed import run_local


def run_ranks(fn: Callable, *args, world: int = 2) -> None:
    run_local(fn, *args, world=world, threads=1, timeout=300.0)


# -- work run in the processes ---------------------------------------------------------------
def cli(argv: list[str], stdout: Path) -> None:
    """``nasfast ARGV`` with its output appended to ``stdout``; it must succeed."""
    from nasfast.cli.main import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(argv)
    with open(stdout, "a") as f:
        f.write(buf.getvalue())
    assert rc == 0, f"nasfast {' '.join(argv)} exited {rc}"


def darts_runs(rank: int, runs: dict[str, list[list[str]]], out: Path) -> None:
    """Each named run: its CLI invocations in order (e.g. a run stopped early, then resumed)."""
    for name, invocations in runs.items():
        for argv in invocations:
            cli(argv, out / f"{name}.rank{rank}.out")


def tiny_supernet_data(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, 8, 8, generator=g)
    return x, torch.randint(0, 3, (n,), generator=g)


def tiny_supernet(seed: int = 0):
    from nasfast.nn import NB201Supernet

    torch.manual_seed(seed)
    return NB201Supernet(C=2, N=1, num_classes=3, in_channels=1)


SUPERNET_STEPS = dict(steps=3, batch_size=8, paths=2, seed=1)


def supernet_run(rank: int, out: Path) -> None:
    """Supernet training on every rank (rank 1 starts from other weights: rank 0's are
    broadcast); each rank saves what it ends with."""
    from nasfast.oneshot import train_supernet

    x, y = tiny_supernet_data()
    net = tiny_supernet(seed=rank)
    losses = train_supernet(net, x, y, **SUPERNET_STEPS)
    torch.save({"losses": losses, "net": net.state_dict()}, out / f"supernet.rank{rank}.pt")


class EdgeModel(nn.Module):
    """One fused DartsEdge (C++ autograd) with learnable op weights, pooled into a classifier."""

    def __init__(self, C: int = 4):
        super().__init__()
        from nasfast.nn import DartsEdge

        self.edge = DartsEdge(C, 1, backend="fused")
        self.w = nn.Parameter(torch.softmax(torch.randn(8), 0))
        self.head = nn.Linear(C, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.edge(x, self.w).mean((2, 3)))


def ddp_on_fused_edge(rank: int, out: Path) -> None:
    """DistributedDataParallel around the fused edge: its gradients equal the mean of the two
    halves' gradients computed in one process."""
    from torch.nn.parallel import DistributedDataParallel

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 4, 6, 6, generator=g), torch.randint(0, 3, (8,), generator=g)
    torch.manual_seed(0)
    model = EdgeModel()
    expected = [torch.zeros_like(p) for p in model.parameters()]
    for half in (slice(0, 4), slice(4, 8)):
        model.zero_grad()
        F.cross_entropy(model(x[half]), y[half]).backward()
        for e, p in zip(expected, model.parameters(), strict=True):
            e.add_(p.grad / 2)
    model.zero_grad()
    ddp = DistributedDataParallel(model)
    mine = slice(4 * rank, 4 * rank + 4)
    F.cross_entropy(ddp(x[mine]), y[mine]).backward()
    for e, p in zip(expected, model.parameters(), strict=True):
        torch.testing.assert_close(p.grad, e, rtol=1e-5, atol=1e-6)
    (out / f"ddp.rank{rank}.ok").write_text("ok")


def all_work(rank: int, runs: dict[str, list[list[str]]], out: Path) -> None:
    """Everything the 2-process test checks, in one launch (process start-up costs seconds)."""
    darts_runs(rank, runs, out)
    supernet_run(rank, out)
    ddp_on_fused_edge(rank, out)


def rank_one_fails(rank: int) -> None:
    """Rank 1 raises; rank 0 is still busy (it would outlive the launch if it were not killed).
    Rank 0 does not wait at a collective: gloo would then fail it too, and which of the two
    errors arrives first is a race."""
    import time

    if rank == 1:
        raise ValueError("rank 1 failed on purpose")
    time.sleep(300)
