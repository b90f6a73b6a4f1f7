"""SPOS on a model space: uniform single-path supernet training, then evolution over it.

1. :func:`train_spos`: every step samples ``paths`` architectures uniformly from the space and
   trains the shared weights on the mean of their losses (Guo et al., "Single Path One-Shot",
   ECCV 2020); checkpointed and resumable with the same result.
2. :func:`evolve_spos`: any nasfast strategy (regularized evolution by default) searches the
   space's discrete view, each candidate scored on the trained supernet (its path only, with
   BatchNorm recalibrated on the scoring batch) by the validation loss.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasfast._atomic import read_checkpoint, torch_save_atomic
from nasfast.oneshot.model_darts import Loss, batch, check_data, step_generator
from nasfast.oneshot.model_supernet import ModelSupernet
from nasfast.spaces.model.space import Arch

if TYPE_CHECKING:
    from nasfast.search.base import SearchResult


def _require_int(v: object, name: str, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")
    return v


def train_spos(
    net: ModelSupernet,
    train: tuple[torch.Tensor, torch.Tensor],
    *,
    steps: int,
    batch_size: int = 64,
    paths: int = 1,
    lr: float = 0.05,
    weight_decay: float = 5e-4,
    loss: Loss = F.cross_entropy,
    seed: int = 0,
    checkpoint: str | None = None,
    checkpoint_every: int = 50,
    stop_after: int | None = None,
    progress: bool = False,
) -> list[float]:
    """Uniform single-path training of ``net``'s weights; returns every step's loss so far."""
    _require_int(steps, "steps", 1)
    _require_int(batch_size, "batch_size", 1)
    _require_int(paths, "paths", 1)
    if not lr > 0:
        raise ValueError(f"lr: expected a positive learning rate, got {lr}")
    check_data(*train, "train")
    params = net.weight_parameters()
    device = params[0].device if params else torch.device("cpu")  # batches go where net is
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    start, losses = 0, []
    if checkpoint is not None and os.path.exists(checkpoint):
        state = read_checkpoint(checkpoint)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        start, losses = int(state["step"]), list(state["losses"])
    end = steps if stop_after is None else min(steps, stop_after)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, initial=start, desc="spos", leave=False)
    net.train()
    for step in range(start, end):
        g = step_generator(seed, step)
        rng = np.random.default_rng([seed, step])
        x, y = (t.to(device) for t in batch(*train, batch_size, g))
        for group in opt.param_groups:
            group["lr"] = 0.5 * lr * (1 + math.cos(math.pi * step / steps))
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for _ in range(paths):
            with net.path(net.space.sample(rng)):
                path_loss = loss(net(x), y) / paths
            path_loss.backward()
            total += float(path_loss.detach())
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        losses.append(total)
        if bar is not None:
            bar.update(1)
        done = step + 1
        if checkpoint is not None and (done % checkpoint_every == 0 or done == end):
            torch_save_atomic(
                {"net": net.state_dict(), "opt": opt.state_dict(), "step": done, "losses": losses},
                checkpoint,
            )
    if bar is not None:
        bar.close()
    net.eval()
    return losses


@contextmanager
def batch_statistics(model: nn.Module) -> Iterator[None]:
    """BatchNorm layers normalise with the statistics of the batch they see and leave their
    running statistics as they are (a candidate path's own statistics, not the supernet's)."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.training, m.track_running_stats) for m in bns]
    for m in bns:
        m.train()
        m.track_running_stats = False  # batch statistics, running ones neither used nor updated
    try:
        yield
    finally:
        for m, (training, track) in zip(bns, saved, strict=True):
            m.train(training)
            m.track_running_stats = track


def path_loss(
    net: ModelSupernet, arch: Arch, x: torch.Tensor, y: torch.Tensor, loss: Loss = F.cross_entropy
) -> float:
    """The loss of ``arch``'s path on ``(x, y)``, BatchNorm recalibrated on ``x``."""
    net.eval()
    dev = next(iter(net.alphas.values())).device
    with torch.no_grad(), net.path(arch), batch_statistics(net):
        return float(loss(net(x.to(dev)), y.to(dev)))


def evolve_spos(
    net: ModelSupernet,
    val: tuple[torch.Tensor, torch.Tensor],
    *,
    budget: int,
    strategy: str = "rea",
    strategy_kwargs: dict[str, Any] | None = None,
    loss: Loss = F.cross_entropy,
    metrics: dict[str, Any] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> SearchResult:
    """Search the space on the trained supernet: minimise ``val_loss`` of each candidate's path.

    ``metrics``: further ``name -> f(arch) -> float`` added to each candidate's metrics (for
    example its parameter count, for a multi-objective strategy over
    ``["min:val_loss", "min:params"]`` given as ``objectives`` in ``strategy_kwargs``).
    """
    # the search layer sits above the one-shot pipelines: imported where it is used
    from nasfast.search import make_strategy, minimize
    from nasfast.search.problem import Problem

    check_data(*val, "val")
    space = net.space.discrete()
    extra = dict(metrics or {})
    kwargs = dict(strategy_kwargs or {})
    objectives = kwargs.pop("objectives", ["min:val_loss"])

    def objective(c):
        arch = space.arch(c)
        out = {"val_loss": path_loss(net, arch, *val, loss=loss)}
        out.update({k: float(f(arch)) for k, f in extra.items()})
        return out

    problem = Problem(space, objective, objectives)
    return minimize(problem, make_strategy(strategy, **kwargs), budget, seed, progress=progress)
