"""Training a derived network from scratch (the DARTS evaluation protocol, scaled by flags):
SGD momentum 0.9, lr 0.025 cosine to 0, weight decay 3e-4, grad clip 5, optional cutout,
drop-path (probability rising linearly to ``drop_path``) and auxiliary head (weight 0.4)."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from nasfast._atomic import atomic_path
from nasfast.datasets import ImageData


@dataclass
class TrainConfig:
    epochs: int = 600
    batch_size: int = 96
    lr: float = 0.025
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    cutout: bool = False
    cutout_length: int = 16
    drop_path: float = 0.2
    auxiliary_weight: float = 0.4
    seed: int = 0
    train_images: int | None = None

    def validate(self) -> None:
        for name in ("epochs", "batch_size", "cutout_length"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(
                    f"--{name.replace('_', '-')}: expected a positive integer, got {v!r}"
                )
        if not self.lr > 0:
            raise ValueError(f"--lr: expected a positive number, got {self.lr}")
        if not 0 <= self.drop_path < 1:
            raise ValueError(f"--drop-path: expected a probability in [0, 1), got {self.drop_path}")
        if self.train_images is not None and self.train_images < 1:
            raise ValueError(f"--train-images: expected a positive count, got {self.train_images}")


def cutout(x: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """DeVries and Taylor 2017: one square of side ``length`` per image set to zero (the mean)."""
    n, _, h, w = x.shape
    cy = torch.randint(0, h, (n,), generator=generator)
    cx = torch.randint(0, w, (n,), generator=generator)
    ys = torch.arange(h).view(1, h, 1)
    xs = torch.arange(w).view(1, 1, w)
    half = length // 2
    inside = (
        (ys - cy.view(n, 1, 1)).abs() <= half - (1 - length % 2) * (ys < cy.view(n, 1, 1)).long()
    ) & ((xs - cx.view(n, 1, 1)).abs() <= half - (1 - length % 2) * (xs < cx.view(n, 1, 1)).long())
    return x * (~inside).unsqueeze(1).to(x.dtype).to(x.device)


@torch.no_grad()
def evaluate(
    net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int, device
) -> tuple[float, float]:
    net.eval()
    correct, loss = 0, 0.0
    for i in range(0, x.shape[0], batch):
        xb, yb = x[i : i + batch].to(device), y[i : i + batch].to(device)
        out = net(xb)
        loss += float(F.cross_entropy(out, yb, reduction="sum"))
        correct += int((out.argmax(1) == yb).sum())
    n = max(1, x.shape[0])
    return loss / n, correct / n


def train_network(
    net: nn.Module,
    data: ImageData,
    cfg: TrainConfig,
    *,
    out: str | None = None,
    device: str = "cpu",
    max_steps: int | None = None,
    progress: bool = True,
) -> dict:
    """Train ``net`` on ``data``'s training split and return the test accuracy and timings."""
    cfg.validate()
    dev = torch.device(device)
    net.to(dev)
    g = torch.Generator().manual_seed(cfg.seed)
    n = (
        data.x_train.shape[0]
        if cfg.train_images is None
        else min(cfg.train_images, data.x_train.shape[0])
    )
    idx = torch.randperm(data.x_train.shape[0], generator=g)[:n]
    if n < cfg.batch_size:
        raise ValueError(f"--batch-size: {cfg.batch_size} is larger than the {n} training images")
    spe = n // cfg.batch_size
    total = spe * cfg.epochs if max_steps is None else min(spe * cfg.epochs, max_steps)
    opt = torch.optim.SGD(
        net.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
    )
    metrics = open(os.path.join(out, "train_metrics.jsonl"), "w") if out else None
    t0 = time.perf_counter()
    step = 0
    bar = tqdm(total=total, disable=not progress, unit="step", desc="train")
    test_loss, test_acc = float("nan"), float("nan")
    try:
        for epoch in range(cfg.epochs):
            if step >= total:
                break
            lr = cfg.lr * (1 + math.cos(math.pi * epoch / cfg.epochs)) / 2
            for group in opt.param_groups:
                group["lr"] = lr
            if hasattr(net, "drop_path_prob"):
                net.drop_path_prob = cfg.drop_path * epoch / cfg.epochs
            perm = idx[torch.randperm(n, generator=g)]
            net.train()
            run_loss, run_correct, seen = 0.0, 0, 0
            for b in range(spe):
                if step >= total:
                    break
                sel = perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]
                x, y = data.x_train[sel], data.y_train[sel]
                if cfg.cutout:
                    x = cutout(x, cfg.cutout_length, g)
                x, y = x.to(dev), y.to(dev)
                out_ = net(x)
                if isinstance(out_, tuple):
                    logits, aux = out_
                    loss = F.cross_entropy(logits, y) + cfg.auxiliary_weight * F.cross_entropy(
                        aux, y
                    )
                else:
                    logits = out_
                    loss = F.cross_entropy(logits, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
                opt.step()
                step += 1
                run_loss += float(loss.detach()) * y.shape[0]
                run_correct += int((logits.argmax(1) == y).sum())
                seen += y.shape[0]
                bar.update(1)
                bar.set_postfix(loss=f"{run_loss / seen:.3f}")
            test_loss, test_acc = evaluate(net, data.x_test, data.y_test, 256, dev)
            rec = {
                "epoch": epoch,
                "step": step,
                "time_s": round(time.perf_counter() - t0, 3),
                "train_loss": run_loss / max(1, seen),
                "train_acc": run_correct / max(1, seen),
                "test_loss": test_loss,
                "test_acc": test_acc,
                "lr": lr,
            }
            if metrics:
                metrics.write(json.dumps(rec) + "\n")
                metrics.flush()
    finally:
        bar.close()
        if metrics:
            metrics.close()
    return {
        "test_acc": test_acc,
        "test_loss": test_loss,
        "steps": step,
        "train_seconds": round(time.perf_counter() - t0, 3),
    }


def export_module(net: nn.Module, example: torch.Tensor, path: str) -> str:
    """Save the trained network (eval mode) with ``torch.export`` so other code can load it with
    ``torch.export.load(path).module()`` without nasfast."""
    net.eval()
    ep = torch.export.export(net, (example,))
    with atomic_path(path, suffix=".tmp.pt2") as tmp:
        torch.export.save(ep, tmp)
    return path
