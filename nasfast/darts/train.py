"""Training a derived network from scratch (the DARTS evaluation protocol, scaled by flags):
SGD momentum 0.9, lr 0.025 cosine to 0, weight decay 3e-4, grad clip 5, optional cutout,
drop-path (probability rising linearly to ``drop_path``) and auxiliary head (weight 0.4).

With ``out`` the run writes ``train_checkpoint.pt`` there atomically at every epoch end, every
``checkpoint_every`` steps and when ``max_steps`` stops it; ``resume=True`` continues from it.
The schedules (cosine lr, drop-path) follow ``epochs``, never ``max_steps``, and the checkpoint
holds the weights, the optimizer, both RNG states, the epoch's batch order and running sums, so a
run stopped at any step and resumed computes exactly what a run that never stopped computes (on
CPU, same thread count).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from nasfast._atomic import atomic_path
from nasfast.datasets import ImageData
from nasfast.runs import (
    RunInterrupted,
    StopRequest,
    check_finite_values,
    check_int,
    check_number,
    check_settings,
    json_line,
    last_checkpoint_note,
    load_checkpoint,
    plain,
    prepare_out,
    restore_rng,
    rng_state,
    save_checkpoint,
    truncate_metrics,
)

CHECKPOINT = "train_checkpoint.pt"
METRICS_FILE = "train_metrics.jsonl"
#: what a training run writes into its folder (a fresh run refuses a folder holding any of them)
RUN_FILES = (CHECKPOINT, METRICS_FILE, "model.pt", "result.json")
_STATE_KEYS = ("settings", "step", "elapsed", "net", "opt", "perm", "run_loss", "seen")
DIVERGED_HINT = "lower --lr, or check --grad-clip and --momentum"


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
            check_int(name, getattr(self, name))
        check_int("seed", self.seed, 0)
        check_number("lr", self.lr, low=0, low_open=True)
        check_number("momentum", self.momentum, low=0, high=1, high_open=True)
        check_number("weight_decay", self.weight_decay, low=0)
        check_number("grad_clip", self.grad_clip, low=0, low_open=True)
        check_number("drop_path", self.drop_path, low=0, high=1, high_open=True)
        check_number("auxiliary_weight", self.auxiliary_weight, low=0)
        if self.train_images is not None:
            check_int("train_images", self.train_images)


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


class TrainRun:
    """One training run of ``net`` (see :func:`train_network`)."""

    def __init__(
        self,
        net: nn.Module,
        data: ImageData,
        cfg: TrainConfig,
        *,
        out: str | None = None,
        device: str = "cpu",
        progress: bool = True,
        checkpoint_every: int = 0,
        settings: dict | None = None,
        stop_when: Callable[[dict], bool] | None = None,
    ):
        cfg.validate()
        if not isinstance(checkpoint_every, int) or checkpoint_every < 0:
            raise ValueError(
                f"checkpoint_every: expected a step count >= 0 (0 = epoch ends only), "
                f"got {checkpoint_every!r}"
            )
        self.net, self.data, self.cfg, self.out = net, data, cfg, out
        self.progress, self.checkpoint_every = progress, checkpoint_every
        self.stop_when = stop_when  # sees each epoch record; True ends the run (early stopping)
        self.stopped_early = False
        self.device = torch.device(device)
        net.to(self.device)
        self.gen = torch.Generator().manual_seed(cfg.seed)
        n = data.x_train.shape[0]
        self.n = n if cfg.train_images is None else min(cfg.train_images, n)
        self.idx = torch.randperm(n, generator=self.gen)[: self.n]
        if self.n < cfg.batch_size:
            raise ValueError(
                f"batch_size: {cfg.batch_size} is larger than the {self.n} training images"
                + (f" (train_images={cfg.train_images})" if cfg.train_images else "")
            )
        self.steps_per_epoch = self.n // cfg.batch_size
        self.total_steps = self.steps_per_epoch * cfg.epochs
        self.opt = torch.optim.SGD(
            net.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
        self.settings = plain(
            {
                **dataclasses.asdict(cfg),
                "dataset": data.name,
                "dataset_images": n,
                "image_shape": list(data.shape),
                "num_classes": data.num_classes,
                **(settings or {}),
            }
        )
        # progress through the run: what the checkpoint holds besides the states
        self.step = 0
        self.saved_step: int | None = None  # the step of the checkpoint on disk
        self.elapsed = 0.0
        self.perm: torch.Tensor | None = None  # this epoch's batch order, None at an epoch start
        self.run_loss, self.run_correct, self.seen = 0.0, 0, 0
        self.test_loss, self.test_acc = float("nan"), float("nan")
        self.epoch_start = 0.0  # elapsed time when the current epoch started

    # -- schedule ----------------------------------------------------------------------------
    def lr_at(self, epoch: int) -> float:
        return self.cfg.lr * (1 + math.cos(math.pi * epoch / self.cfg.epochs)) / 2

    def drop_path_at(self, epoch: int) -> float:
        return self.cfg.drop_path * epoch / self.cfg.epochs

    # -- checkpoint --------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "kind": "train",
            "format": 1,
            "settings": self.settings,
            "step": self.step,
            "epoch": self.step // self.steps_per_epoch,
            "batch": self.step % self.steps_per_epoch,
            "total_steps": self.total_steps,
            "elapsed": self.elapsed,
            "epoch_start": self.epoch_start,
            "net": self.net.state_dict(),
            "opt": self.opt.state_dict(),
            **rng_state(self.device, data=self.gen),
            "perm": self.perm if self.perm is not None else torch.zeros(0, dtype=torch.long),
            "run_loss": self.run_loss,
            "run_correct": self.run_correct,
            "seen": self.seen,
            "test_loss": self.test_loss,
            "test_acc": self.test_acc,
        }

    def save_checkpoint(self) -> str | None:
        if not self.out:
            return None
        path = os.path.join(self.out, CHECKPOINT)
        save_checkpoint(self.state(), path)
        self.saved_step = self.step
        return path

    def load_checkpoint(self, max_steps: int | None = None) -> None:
        if not self.out:
            raise ValueError(f"resume: needs out, the directory holding {CHECKPOINT}")
        path = os.path.join(self.out, CHECKPOINT)
        ck = load_checkpoint(path, kind="train", keys=_STATE_KEYS)
        check_settings(ck.get("settings", {}), self.settings)
        if ck["step"] >= self.total_steps:
            raise ValueError(
                f"resume: the run in {self.out} is finished ({ck['step']} of "
                f"{self.total_steps} steps); export it again with --export, or start over with "
                "--overwrite"
            )
        if max_steps is not None and max_steps <= ck["step"]:
            raise ValueError(
                f"max_steps: the checkpoint is already at step {ck['step']}, got {max_steps}"
            )
        try:
            self.net.load_state_dict(ck["net"])
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[-1].strip()
            raise ValueError(
                f"resume: the checkpoint's network does not match this one ({first})"
            ) from None
        self.opt.load_state_dict(ck["opt"])
        restore_rng(ck, self.device, data=self.gen)
        self.step, self.elapsed = ck["step"], ck["elapsed"]
        self.saved_step = self.step
        self.epoch_start = float(ck.get("epoch_start", self.elapsed))
        self.perm = ck["perm"] if ck["perm"].numel() else None
        self.run_loss, self.run_correct, self.seen = ck["run_loss"], ck["run_correct"], ck["seen"]
        self.test_loss, self.test_acc = ck["test_loss"], ck["test_acc"]
        # drop the lines written after the checkpoint and the partial-epoch line of a stop
        truncate_metrics(
            os.path.join(self.out, METRICS_FILE),
            lambda r: r.get("step", self.step + 1) <= self.step and not r.get("partial"),
        )

    # -- the loop ----------------------------------------------------------------------------
    def _one_step(self) -> None:
        c, net, dev = self.cfg, self.net, self.device
        epoch, b = divmod(self.step, self.steps_per_epoch)
        if self.perm is None:  # an epoch starts
            self.perm = self.idx[torch.randperm(self.n, generator=self.gen)]
            self.run_loss, self.run_correct, self.seen = 0.0, 0, 0
        for group in self.opt.param_groups:
            group["lr"] = self.lr_at(epoch)
        if hasattr(net, "drop_path_prob"):
            net.drop_path_prob = self.drop_path_at(epoch)
        sel = self.perm[b * c.batch_size : (b + 1) * c.batch_size]
        x, y = self.data.x_train[sel], self.data.y_train[sel]
        if c.cutout:
            x = cutout(x, c.cutout_length, self.gen)
        x, y = x.to(dev), y.to(dev)
        out_ = net(x)
        if isinstance(out_, tuple):
            logits, aux = out_
            loss = F.cross_entropy(logits, y) + c.auxiliary_weight * F.cross_entropy(aux, y)
        else:
            logits = out_
            loss = F.cross_entropy(logits, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = nn.utils.clip_grad_norm_(net.parameters(), c.grad_clip)
        loss_value = float(loss.detach())
        path = os.path.join(self.out, CHECKPOINT) if self.out else None
        hint = f"{DIVERGED_HINT}; {last_checkpoint_note(path, self.saved_step)}"
        check_finite_values(self.step, hint, train_loss=loss_value, grad_norm=float(grad_norm))
        self.opt.step()
        self.step += 1
        self.run_loss += loss_value * y.shape[0]
        self.run_correct += int((logits.argmax(1) == y).sum())
        self.seen += y.shape[0]

    def _epoch_record(self, *, partial: bool = False) -> dict:
        self.test_loss, self.test_acc = evaluate(
            self.net, self.data.x_test, self.data.y_test, 256, self.device
        )
        epoch = (self.step - 1) // self.steps_per_epoch
        rec = {
            "epoch": epoch,
            "step": self.step,
            "elapsed_s": round(self.elapsed, 3),
            "epoch_s": round(self.elapsed - self.epoch_start, 3),
            "train_loss": self.run_loss / max(1, self.seen),
            "train_acc": self.run_correct / max(1, self.seen),
            "test_loss": self.test_loss,
            "test_acc": self.test_acc,
            "lr": self.lr_at(epoch),
        }
        if partial:
            rec["partial"] = True  # stopped mid-epoch; dropped when the run resumes
        return rec

    def run(
        self, *, resume: bool = False, max_steps: int | None = None, overwrite: bool = False
    ) -> dict:
        if max_steps is not None:
            check_int("max_steps", max_steps)
        if self.out:
            prepare_out(self.out, RUN_FILES, resume=resume, overwrite=overwrite)
        if resume:
            self.load_checkpoint(max_steps)
        elif self.out:
            with open(os.path.join(self.out, METRICS_FILE), "w"):
                pass
        stop = self.total_steps if max_steps is None else min(self.total_steps, max_steps)
        bar = tqdm(
            total=stop,
            initial=min(self.step, stop),
            disable=not self.progress,
            unit="step",
            desc="train",
        )
        try:
            with StopRequest() as ctrl_c:
                self._loop(stop, bar, ctrl_c)
        finally:
            bar.close()
        return {
            "test_acc": self.test_acc,
            "test_loss": self.test_loss,
            "steps": self.step,
            "total_steps": self.total_steps,
            "complete": self.step >= self.total_steps,
            "stopped_early": self.stopped_early,
            "train_seconds": round(self.elapsed, 3),
        }

    def _loop(self, stop: int, bar: tqdm, ctrl_c: StopRequest) -> None:
        metrics = open(os.path.join(self.out, METRICS_FILE), "a") if self.out else None
        t0 = time.perf_counter() - self.elapsed

        def write(rec: dict) -> None:
            if metrics:
                metrics.write(json_line(rec))
                metrics.flush()

        try:
            self.net.train()
            while self.step < stop:
                if self.perm is None:
                    self.epoch_start = self.elapsed
                self._one_step()
                self.elapsed = time.perf_counter() - t0
                bar.update(1)
                bar.set_postfix(loss=f"{self.run_loss / self.seen:.3f}")
                if self.step % self.steps_per_epoch == 0:
                    rec = self._epoch_record()
                    write(rec)
                    self.net.train()
                    self.perm = None
                    self.save_checkpoint()
                    if self.stop_when is not None and self.stop_when(rec):
                        self.stopped_early = True
                        break
                elif self.checkpoint_every and self.step % self.checkpoint_every == 0:
                    self.save_checkpoint()
                if ctrl_c.requested and self.step < stop:
                    raise RunInterrupted(self.step, self.save_checkpoint())
            if self.perm is not None:  # stopped mid-epoch by max_steps
                write(self._epoch_record(partial=True))
                self.save_checkpoint()
        finally:
            if metrics:
                metrics.close()


def train_network(
    net: nn.Module,
    data: ImageData,
    cfg: TrainConfig,
    *,
    out: str | None = None,
    device: str = "cpu",
    max_steps: int | None = None,
    progress: bool = True,
    resume: bool = False,
    checkpoint_every: int = 0,
    settings: dict | None = None,
    overwrite: bool = False,
    stop_when: Callable[[dict], bool] | None = None,
) -> dict:
    """Train ``net`` on ``data``'s training split and return the test accuracy and timings.

    ``out``: directory for ``train_metrics.jsonl`` (one line per epoch) and the checkpoint
    (``train_checkpoint.pt``, written atomically at every epoch end, every ``checkpoint_every``
    steps when > 0, and when ``max_steps`` stops the run). ``resume=True`` continues from that
    checkpoint; it must have been made with the same ``cfg``, data and ``settings`` (extra
    values the caller wants checked, e.g. the genotype and network size). ``max_steps`` only
    stops early: the schedules follow ``cfg.epochs``. ``stop_when(epoch_record) -> bool`` ends
    the run after an epoch (early stopping; the checkpoint lets a later run continue). A fresh
    run refuses an ``out`` that holds a run unless ``overwrite``. Ctrl-C finishes the step,
    writes the checkpoint and raises :class:`~nasfast.runs.RunInterrupted`; a non-finite loss or
    gradient norm raises :class:`~nasfast.runs.Diverged` before the weights are updated.
    """
    run = TrainRun(
        net,
        data,
        cfg,
        out=out,
        device=device,
        progress=progress,
        checkpoint_every=checkpoint_every,
        settings=settings,
        stop_when=stop_when,
    )
    return run.run(resume=resume, max_steps=max_steps, overwrite=overwrite)


def export_module(net: nn.Module, example: torch.Tensor, path: str) -> str:
    """Save the trained network (eval mode) with ``torch.export`` so other code can load it with
    ``torch.export.load(path).module()`` without nasfast; the program takes any batch size.

    ``example``: one input image ``[1, C, H, W]`` (or ``[C, H, W]``); the saved program keeps a
    copy of that one image as its example input, never the tensor it is a view of."""
    if example.dim() == 3:
        example = example.unsqueeze(0)
    if example.dim() != 4 or example.shape[0] != 1:
        raise ValueError(f"example: expected one image [1, C, H, W], got {tuple(example.shape)}")
    net.eval()
    # a batch of 2 (one stored image, expanded) so the batch dimension stays dynamic
    batch = example.detach().cpu().clone().expand(2, -1, -1, -1)
    dims = ({0: torch.export.Dim("batch", min=1)},)
    ep = torch.export.export(net, (batch,), dynamic_shapes=dims)
    with atomic_path(path, suffix=".tmp.pt2") as tmp:
        torch.export.save(ep, tmp)
    return path
