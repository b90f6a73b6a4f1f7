"""Supernet training for one-shot search on the NAS-Bench-201 supernet.

:func:`train_supernet`: uniform single-path training; every step draws ``paths`` architectures
and runs them together through the batched path (``forward_candidates``), loss averaged over
paths (checkpointed, resumable); data-parallel under ``torch.distributed`` (``batch_shards``, see
:mod:`nasfast.distributed`: every process draws the same batch and paths, computes its shards and
the gradients are all-reduced; rank 0 writes the checkpoint). :func:`train_alphas`: DARTS
architecture logits learned on the trained supernet (first order, weights frozen, continuous
relaxation through the fused ``mixed_op``); :func:`seeds_from_alphas` turns them into an
initial population.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from nasfast.distributed import DataParallel
from nasfast.nn import NB201Supernet
from nasfast.runs import (
    check_finite_values,
    check_int,
    check_number,
    check_settings,
    load_checkpoint,
    plain,
    save_checkpoint,
    tensors_finite,
)
from nasfast.spaces.discrete import Candidate
from nasfast.spaces.nb201 import N_EDGES, OPS


def _step_generator(seed: int, step: int) -> torch.Generator:
    """The randomness of one training step depends only on (seed, step): resume is exact."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def train_supernet(
    net: NB201Supernet,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 64,
    paths: int = 4,
    lr: float = 0.05,
    weight_decay: float = 5e-4,
    seed: int = 0,
    checkpoint: str | None = None,
    checkpoint_every: int = 50,
    stop_after: int | None = None,
    progress: bool = False,
    batch_shards: int | None = None,
    settings: Mapping[str, Any] | None = None,
) -> list[float]:
    """Uniform single-path training; returns the loss of every step done so far.

    SGD (Nesterov, momentum 0.9) with a cosine learning rate over ``steps``. With
    ``checkpoint``, the state is written atomically every ``checkpoint_every`` steps and at the
    end, and a run finds and resumes it (same result as an uninterrupted run); ``settings``
    (what else the caller wants to match, e.g. the data) are stored with it and a checkpoint
    made with other settings, or other training arguments, is refused. ``stop_after`` ends the
    call after that many steps in total (an interruption, for tests). ``batch_shards`` splits
    each batch into shards with their own BatchNorm statistics, spread over the processes of a
    ``torch.distributed`` run (None: one per process). A non-finite loss or gradient norm (the
    mean over the processes) raises :class:`~nasfast.runs.Diverged` before the weights are
    updated.
    """
    for name, v in (("steps", steps), ("batch_size", batch_size), ("paths", paths)):
        check_int(name, v)
    check_number("lr", lr, low=0, low_open=True)
    check_number("weight_decay", weight_decay, low=0)
    check_int("seed", seed, 0)
    stored = plain(
        {
            **(settings or {}),
            "steps": steps,
            "batch_size": batch_size,
            "paths": paths,
            "lr": lr,
            "weight_decay": weight_decay,
            "seed": seed,
            "network": net.extra_repr(),
            "parameters": sum(p.numel() for p in net.parameters()),
        }
    )
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"y: expected {x.shape[0]} labels (one per image), got {y.shape[0]}")
    dp = DataParallel(batch_shards, device=x.device)
    if batch_size % dp.shards:
        raise ValueError(
            f"batch_size: expected a multiple of batch_shards={dp.shards}, got {batch_size}"
        )
    dp.broadcast_state_(net)
    opt = torch.optim.SGD(
        net.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay
    )
    start, losses = 0, []
    if checkpoint and os.path.exists(checkpoint):
        state = load_checkpoint(
            checkpoint, name="resume", kind="supernet", keys=("net", "opt", "step", "losses")
        )
        if "settings" in state:
            check_settings(state["settings"], stored)
        elif settings is not None:
            raise ValueError(f"resume: {checkpoint} holds no settings to check; start over")
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        start, losses = int(state["step"]), list(state["losses"])
    end = steps if stop_after is None else min(steps, stop_after)
    bar = None
    if progress and dp.is_main:
        from tqdm import tqdm

        bar = tqdm(total=steps, initial=start, desc="supernet", leave=False)
    net.train()
    for step in range(start, end):
        g = _step_generator(seed, step)
        idx = torch.randint(0, x.shape[0], (batch_size,), generator=g)
        archs = torch.randint(0, len(OPS), (paths, N_EDGES), generator=g)
        for group in opt.param_groups:
            group["lr"] = 0.5 * lr * (1 + math.cos(math.pi * step / steps))
        opt.zero_grad(set_to_none=True)
        shard_losses = []
        for xs, ys in dp.split(x[idx], y[idx]):
            logits = net.forward_candidates(xs, archs)
            loss = F.cross_entropy(logits.flatten(0, 1), ys.repeat(paths))
            loss.backward()
            shard_losses.append(float(loss.detach()))
        dp.average_gradients_(list(net.parameters()))
        grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        (mean_loss,) = dp.mean_of_processes([sum(shard_losses) / len(shard_losses)])
        check_finite_values(
            step,
            "lower --lr; "
            + (f"{checkpoint} holds the last finite state" if checkpoint else "nothing saved"),
            train_loss=mean_loss,
            grad_norm=float(grad_norm),
        )
        opt.step()
        losses.append(mean_loss)
        if bar is not None:
            bar.update(1)
        done = step + 1
        if checkpoint and (done % checkpoint_every == 0 or done == end):
            if not tensors_finite(list(net.parameters())):  # the same on every process
                raise ValueError(f"diverged by step {done}: the supernet's weights are not finite")
        if checkpoint and dp.is_main and (done % checkpoint_every == 0 or done == end):
            state = {"net": net.state_dict(), "opt": opt.state_dict(), "step": done}
            save_checkpoint(
                {"kind": "supernet", **state, "losses": losses, "settings": stored}, checkpoint
            )
    if bar is not None:
        bar.close()
    if checkpoint:
        dp.barrier()  # rank 0's checkpoint is on disk before any process goes on
    net.eval()
    return losses


def train_alphas(
    net: NB201Supernet,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 64,
    lr: float = 0.1,
    seed: int = 0,
) -> torch.Tensor:
    """DARTS architecture logits ``[6, 5]`` learned on the (frozen) supernet's relaxation."""
    alpha = torch.zeros(N_EDGES, len(OPS), requires_grad=True)
    opt = torch.optim.Adam([alpha], lr=lr, betas=(0.5, 0.999))
    for p in net.parameters():
        p.requires_grad_(False)
    try:
        for step in range(steps):
            g = _step_generator(seed + 7919, step)
            idx = torch.randint(0, x.shape[0], (batch_size,), generator=g)
            loss = F.cross_entropy(net.forward_mixed(x[idx], alpha, bn="batch"), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    finally:
        for p in net.parameters():
            p.requires_grad_(True)
    return alpha.detach()


def seeds_from_alphas(alpha: torch.Tensor, n: int, seed: int = 0) -> list[Candidate]:
    """The argmax cell, then distinct samples of ``softmax(alpha)`` (up to ``n`` in all)."""
    out = [tuple(int(v) for v in alpha.argmax(dim=1))]
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(alpha, dim=1)
    for _ in range(20 * n):
        if len(out) >= n:
            break
        c = tuple(int(v) for v in torch.multinomial(probs, 1, generator=g).squeeze(1))
        if c not in out:
            out.append(c)
    return out
