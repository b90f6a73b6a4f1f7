"""DARTS (first or second order) and GDAS directly on a model space.

The architecture steps are nasfast's DARTS :class:`~nasfast.darts.Architect` (the same
first-order and finite-difference second-order gradients as the built-in DARTS search); weights
follow SGD with momentum and a cosine learning rate, as DARTS. Data are tensors ``(x, y)``; each
step's batches are drawn from a generator seeded by (seed, step), so a run resumed from its
checkpoint ends exactly where an uninterrupted one does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from nasfast._atomic import read_checkpoint, torch_save_atomic
from nasfast.darts.architect import ORDERS, Architect
from nasfast.oneshot.model_supernet import ModelSupernet
from nasfast.spaces.model import ModelSpace
from nasfast.spaces.model.space import Arch

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
METHODS = ("darts", "gdas")


@dataclass
class OneShotConfig:
    """Settings of a one-shot search (DARTS's defaults where they apply)."""

    steps: int = 200
    batch_size: int = 64
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    arch_lr: float = 3e-4
    arch_weight_decay: float = 1e-3
    order: str = "first"
    method: str = "darts"
    tau_max: float = 10.0
    tau_min: float = 0.1
    seed: int = 0

    def validate(self) -> None:
        for name in ("steps", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
        for name in ("lr", "lr_min", "arch_lr", "tau_max", "tau_min"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name}: expected a positive number, got {v!r}")
        if self.order not in ORDERS:
            raise ValueError(f"order: expected one of {ORDERS}, got {self.order!r}")
        if self.method not in METHODS:
            raise ValueError(f"method: expected one of {METHODS}, got {self.method!r}")


@dataclass
class OneShotResult:
    arch: Arch
    alphas: dict[str, list[float]]
    losses: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)


def step_generator(seed: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def check_data(x: torch.Tensor, y: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError(f"{name}: expected tensors (x, y)")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{name}: x has {x.shape[0]} rows but y has {y.shape[0]}")
    if x.shape[0] < 1:
        raise ValueError(f"{name}: expected at least one row, got none")


def batch(x: torch.Tensor, y: torch.Tensor, n: int, g: torch.Generator):
    idx = torch.randint(0, x.shape[0], (n,), generator=g)
    return x[idx], y[idx]


class ModelDartsSearch:
    """The state of one DARTS/GDAS run over a model space; :meth:`step` runs one search step
    (an architecture step on a validation batch, then a weight step on a training batch)."""

    def __init__(
        self,
        space: ModelSpace,
        train: tuple[torch.Tensor, torch.Tensor],
        val: tuple[torch.Tensor, torch.Tensor],
        config: OneShotConfig | None = None,
        *,
        loss: Loss = F.cross_entropy,
        backend: str = "fused",
        device: str | torch.device = "cpu",
    ) -> None:
        cfg = config or OneShotConfig()
        cfg.validate()
        check_data(*train, "train")
        check_data(*val, "val")
        self.cfg, self.train_data, self.val_data, self.loss = cfg, train, val, loss
        torch.manual_seed(cfg.seed)
        self.device = torch.device(device)
        self.net = net = ModelSupernet(space, mode=cfg.method, backend=backend).to(self.device)
        net.generator = torch.Generator(device=self.device).manual_seed(cfg.seed + 7919)
        self.w_opt = torch.optim.SGD(
            net.weight_parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )

        def loss_fn(model, x, y):
            out = model(x)
            return loss(out, y), out

        self.architect = Architect(
            net,
            self.w_opt,
            order=cfg.order,
            lr=cfg.arch_lr,
            weight_decay=cfg.arch_weight_decay,
            loss_fn=loss_fn,
        )

    def step(self, step: int) -> tuple[float, float]:
        """Search step ``step`` (its batches, learning rate and temperature depend on it only);
        returns (training loss, validation loss)."""
        cfg, net = self.cfg, self.net
        g = step_generator(cfg.seed, step)
        x, y = (t.to(self.device) for t in batch(*self.train_data, cfg.batch_size, g))
        xv, yv = (t.to(self.device) for t in batch(*self.val_data, cfg.batch_size, g))
        lr = cfg.lr_min + (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * step / cfg.steps)) / 2
        for group in self.w_opt.param_groups:
            group["lr"] = lr
        net.tau = cfg.tau_max - (cfg.tau_max - cfg.tau_min) * step / max(cfg.steps - 1, 1)
        net.train()
        val_loss, _ = self.architect.step(x, y, xv, yv, lr)
        self.w_opt.zero_grad(set_to_none=True)
        train_loss = self.loss(net(x), y)
        train_loss.backward()
        torch.nn.utils.clip_grad_norm_(net.weight_parameters(), cfg.grad_clip)
        self.w_opt.step()
        for a in net.arch_parameters():
            a.grad = None
        return float(train_loss.detach()), float(val_loss)


def search_darts(
    space: ModelSpace,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    config: OneShotConfig | None = None,
    *,
    loss: Loss = F.cross_entropy,
    backend: str = "fused",
    device: str | torch.device = "cpu",
    checkpoint: str | None = None,
    checkpoint_every: int = 50,
    stop_after: int | None = None,
    progress: bool = False,
) -> tuple[OneShotResult, ModelSupernet]:
    """DARTS or GDAS (``config.method``) over ``space``; returns the derived architecture (the
    argmax of each label's logits) and the trained supernet. Data stay where they are; each
    step's batches move to ``device``, where the supernet lives.

    ``checkpoint``: a file written atomically every ``checkpoint_every`` steps and at the end; a
    run that finds it resumes. ``stop_after`` ends the call after that many steps in total.
    """
    run = ModelDartsSearch(space, train, val, config, loss=loss, backend=backend, device=device)
    cfg, net = run.cfg, run.net
    res = OneShotResult({}, {})
    start = 0
    if checkpoint is not None:
        start = _resume(checkpoint, net, run.w_opt, run.architect, res)
    end = cfg.steps if stop_after is None else min(cfg.steps, stop_after)
    bar = _bar(progress, cfg.steps, start, cfg.method)
    for step in range(start, end):
        train_loss, val_loss = run.step(step)
        res.losses.append(train_loss)
        res.val_losses.append(val_loss)
        if bar is not None:
            bar.update(1)
        done = step + 1
        if checkpoint is not None and (done % checkpoint_every == 0 or done == end):
            _save(checkpoint, net, run.w_opt, run.architect, res, done)
    if bar is not None:
        bar.close()
    res.arch = net.derive()
    res.alphas = {k: v.detach().double().tolist() for k, v in net.alphas.items()}
    return res, net


def _bar(progress: bool, total: int, initial: int, desc: str) -> Any:
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, leave=False)


def _save(path, net, w_opt, architect, res: OneShotResult, step: int) -> None:
    state = {
        "net": net.state_dict(),
        "w_opt": w_opt.state_dict(),
        "a_opt": architect.optimizer.state_dict(),
        "gumbel": net.generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "step": step,
        "losses": res.losses,
        "val_losses": res.val_losses,
    }
    torch_save_atomic(state, path)


def _resume(path, net, w_opt, architect, res: OneShotResult) -> int:
    import os

    if not os.path.exists(path):
        return 0
    state = read_checkpoint(path)
    net.load_state_dict(state["net"])
    w_opt.load_state_dict(state["w_opt"])
    architect.optimizer.load_state_dict(state["a_opt"])
    net.generator.set_state(state["gumbel"])
    torch.set_rng_state(state["torch_rng"])
    res.losses, res.val_losses = list(state["losses"]), list(state["val_losses"])
    return int(state["step"])
