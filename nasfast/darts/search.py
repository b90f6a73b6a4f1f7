"""The DARTS search loop: data split, schedules, architect and weight steps, metrics, checkpoint,
resume, genotype and plots.

Everything that changes over time (learning rate, Gumbel temperature, P-DARTS stages and skip
dropout) is a function of the step and ``epochs``, never of ``max_steps``; a run stopped at step k
and resumed from its checkpoint computes exactly what a run that never stopped computes (on CPU,
same thread count): the checkpoint holds the weights, the alphas, both optimizers, the RNG states
and the alpha history, and every batch is drawn from a generator seeded by (seed, epoch).

Under ``torch.distributed`` (``torchrun``) every process draws the same global batch and computes
its shards of it (``batch_shards``, see :mod:`nasfast.distributed`); weight and alpha gradients are
all-reduced, so every process holds the same weights and alphas and derives the same genotype.
Rank 0 writes the checkpoint, metrics, genotype and plots; every process resumes from that
checkpoint.
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
from tqdm import tqdm

from nasfast.darts.architect import ORDERS, Architect
from nasfast.darts.costs import METRICS, edge_costs, expected_cost
from nasfast.darts.genotype import Genotype, derive_genotype
from nasfast.darts.network import NONE, NUM_OPS, SearchNetwork, num_edges
from nasfast.datasets import ImageData
from nasfast.distributed import DataParallel
from nasfast.nn.darts_edge import cpu_kernels_channels_last
from nasfast.runs import (
    Diverged,
    RunInterrupted,
    StopRequest,
    check_below,
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
    tensors_finite,
    truncate_metrics,
)

CHECKPOINT = "checkpoint.pt"
METRICS_FILE = "metrics.jsonl"
GENOTYPE_FILE = "genotype.json"
#: what a search writes into its folder (a fresh run refuses a folder holding any of them)
RUN_FILES = (CHECKPOINT, METRICS_FILE, GENOTYPE_FILE)
_STATE_KEYS = ("config", "step", "stage", "op_mask", "net", "w_opt", "a_opt", "history")
DIVERGED_HINT = "lower --lr or --arch-lr, or check --grad-clip and --momentum"


@dataclass
class SearchConfig:
    """Every setting of a search; defaults follow the DARTS paper (CIFAR-10 search)."""

    dataset: str = "mnist-small"
    epochs: int = 50
    batch_size: int = 64
    channels: int = 16
    layers: int = 8
    seed: int = 2
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    arch_lr: float = 3e-4
    arch_weight_decay: float = 1e-3
    train_portion: float = 0.5
    train_images: int | None = None
    order: str = "auto"
    sampler: str = "softmax"
    tau_max: float = 10.0
    tau_min: float = 0.1
    partial_channels: int = 1
    progressive: bool = False
    stage_layers: list[int] | None = None
    stage_ops: list[int] = dataclasses.field(default_factory=lambda: [5, 3])
    stage_skip_dropout: list[float] = dataclasses.field(default_factory=lambda: [0.0, 0.4, 0.7])
    complexity_weight: float = 0.0
    complexity: str = "params"
    cost_table: str | None = None
    max_skips: int = 2
    warmup_epochs: int = 0
    backend: str = "fused"
    batch_shards: int | None = None  # None: one per process

    def resolved_order(self) -> str:
        if self.order != "auto":
            return self.order
        variant = self.sampler == "gumbel" or self.partial_channels > 1 or self.progressive
        return "first" if variant else "second"

    def validate(self) -> None:
        for name in ("epochs", "batch_size", "channels", "layers", "partial_channels"):
            check_int(name, getattr(self, name))
        if self.batch_shards is not None:
            check_int("batch_shards", self.batch_shards)
            if self.batch_size % self.batch_shards:
                raise ValueError(
                    f"batch_size: expected a multiple of batch_shards={self.batch_shards}, "
                    f"got {self.batch_size}"
                )
        check_int("warmup_epochs", self.warmup_epochs, 0)
        check_int("seed", self.seed, 0)
        check_int("max_skips", self.max_skips, -1)
        if self.train_images is not None:
            check_int("train_images", self.train_images)
        for name in ("lr", "arch_lr", "tau_max", "tau_min", "grad_clip"):
            check_number(name, getattr(self, name), low=0, low_open=True)
        check_number("lr_min", self.lr_min, low=0)
        check_below("lr_min", self.lr_min, "lr", self.lr, strict=False)
        check_number("momentum", self.momentum, low=0, high=1, high_open=True)
        for name in ("weight_decay", "arch_weight_decay", "complexity_weight"):
            check_number(name, getattr(self, name), low=0)
        if self.sampler == "gumbel":
            check_below("tau_min", self.tau_min, "tau_max", self.tau_max, strict=False)
        check_below("warmup_epochs", self.warmup_epochs, "epochs", self.epochs, strict=True)
        if not 0 < self.train_portion < 1:
            raise ValueError(
                f"train_portion: expected a fraction in (0, 1), got {self.train_portion}"
            )
        if self.order not in ("auto", *ORDERS):
            raise ValueError(f"order: expected auto, first or second, got {self.order!r}")
        if self.sampler not in ("softmax", "gumbel"):
            raise ValueError(f"sampler: expected softmax or gumbel, got {self.sampler!r}")
        if self.complexity not in METRICS:
            raise ValueError(f"complexity: expected one of {METRICS}, got {self.complexity!r}")
        if self.backend not in ("fused", "reference"):
            raise ValueError(f"backend: expected fused or reference, got {self.backend!r}")
        if self.progressive:
            n = len(self.stages_layers())
            if any(not isinstance(v, int) or v < 1 for v in self.stages_layers()):
                raise ValueError(
                    f"stage_layers: expected positive integers, got {self.stage_layers}"
                )
            if len(self.stage_ops) != n - 1:
                raise ValueError(
                    f"stage_ops: expected {n - 1} counts (one per stage after the first)"
                )
            if any(not 2 <= k <= NUM_OPS for k in self.stage_ops) or list(self.stage_ops) != sorted(
                self.stage_ops, reverse=True
            ):
                raise ValueError(
                    f"stage_ops: expected non-increasing counts in [2, {NUM_OPS}], "
                    f"got {self.stage_ops}"
                )
            if len(self.stage_skip_dropout) != n or any(
                not (isinstance(p, (int, float)) and 0 <= p < 1) for p in self.stage_skip_dropout
            ):
                raise ValueError(f"stage_skip_dropout: expected {n} rates in [0, 1)")
            if self.epochs < n:
                raise ValueError(
                    f"epochs: P-DARTS needs at least one epoch per stage ({n}), got {self.epochs}"
                )
            check_below(
                "warmup_epochs",
                self.warmup_epochs,
                "the epochs of a stage",
                min(self.stage_epochs()),
                strict=True,
            )

    def stages_layers(self) -> list[int]:
        if not self.progressive:
            return [self.layers]
        if self.stage_layers:
            return list(self.stage_layers)
        return [self.layers, self.layers + 6, self.layers + 12]

    def stage_epochs(self) -> list[int]:
        n = len(self.stages_layers())
        base = [self.epochs // n] * n
        base[-1] += self.epochs - sum(base)
        return base


@dataclass
class StepInfo:
    stage: int
    epoch: int  # global epoch
    stage_epoch: int  # epoch within the stage
    stage_epochs: int
    batch: int  # index of the batch within the epoch


class DartsSearch:
    """One search run writing into ``out`` (see :func:`run_search`)."""

    def __init__(
        self,
        cfg: SearchConfig,
        data: ImageData,
        out: str,
        *,
        device: str = "cpu",
        progress: bool = True,
        log: Callable[[str], None] = print,
        use_process_group: bool = True,
    ):
        """``use_process_group=False``: a one-process search even inside a process group."""
        cfg.validate()
        self.device = torch.device(device)
        self.gumbel_gen = torch.Generator(device=self.device).manual_seed(cfg.seed + 7919)
        self.dp = DataParallel(
            cfg.batch_shards,
            device=self.device,
            generators=[self.gumbel_gen],
            use_process_group=use_process_group,
        )
        cfg = dataclasses.replace(cfg, batch_shards=self.dp.shards)
        cfg.validate()
        self.cfg, self.data, self.out, self.log = cfg, data, out, log
        self.progress = progress and self.dp.is_main
        self.order = cfg.resolved_order()
        n = (
            data.x_train.shape[0]
            if cfg.train_images is None
            else min(cfg.train_images, data.x_train.shape[0])
        )
        perm = torch.randperm(
            data.x_train.shape[0], generator=torch.Generator().manual_seed(cfg.seed)
        )[:n]
        n_train = int(n * cfg.train_portion)
        self.train_idx, self.val_idx = perm[:n_train], perm[n_train:]
        if min(len(self.train_idx), len(self.val_idx)) < cfg.batch_size:
            raise ValueError(
                f"batch_size: {cfg.batch_size} is larger than the train/val halves "
                f"({len(self.train_idx)}/{len(self.val_idx)} images"
                + (f" of train_images={cfg.train_images})" if cfg.train_images else ")")
            )
        self.steps_per_epoch = len(self.train_idx) // cfg.batch_size
        self.total_steps = self.steps_per_epoch * cfg.epochs
        self.step = 0
        self.saved_step: int | None = None  # the step of the checkpoint on disk
        self.stage = -1
        self.elapsed = 0.0
        self.history: list[dict] = []
        self.op_mask = torch.ones(2, num_edges(4), NUM_OPS, dtype=torch.bool)
        self.net: SearchNetwork | None = None

    # -- schedule ----------------------------------------------------------------------------
    def locate(self, step: int) -> StepInfo:
        epoch, batch = divmod(step, self.steps_per_epoch)
        start = 0
        for s, e in enumerate(self.cfg.stage_epochs()):
            if epoch < start + e:
                return StepInfo(s, epoch, epoch - start, e, batch)
            start += e
        raise IndexError(step)

    def lr_at(self, info: StepInfo) -> float:
        c = self.cfg
        return (
            c.lr_min
            + (c.lr - c.lr_min) * (1 + math.cos(math.pi * info.stage_epoch / info.stage_epochs)) / 2
        )

    def tau_at(self, info: StepInfo) -> float:
        c = self.cfg
        if c.epochs <= 1:
            return c.tau_max
        return c.tau_max - (c.tau_max - c.tau_min) * info.epoch / (c.epochs - 1)

    def skip_drop_at(self, info: StepInfo) -> float:
        if not self.cfg.progressive:
            return 0.0
        rate = self.cfg.stage_skip_dropout[info.stage]
        return rate * (info.stage_epochs - info.stage_epoch - 1) / info.stage_epochs

    def batches(self, epoch: int, batch: int) -> tuple[torch.Tensor, ...]:
        c = self.cfg
        g = torch.Generator().manual_seed(c.seed * 1_000_003 + epoch)
        tr = self.train_idx[torch.randperm(len(self.train_idx), generator=g)]
        va = self.val_idx[torch.randperm(len(self.val_idx), generator=g)]
        nb_val = len(self.val_idx) // c.batch_size
        i = slice(batch * c.batch_size, (batch + 1) * c.batch_size)
        vb = batch % nb_val
        j = slice(vb * c.batch_size, (vb + 1) * c.batch_size)
        x, y = self.data.x_train, self.data.y_train
        d = self.device
        return x[tr[i]].to(d), y[tr[i]].to(d), x[va[j]].to(d), y[va[j]].to(d)

    # -- network per stage -------------------------------------------------------------------
    def _channels_last(self) -> bool:
        """Whether the network computes channels-last: with the fused edge on the CPU where its
        kernels compute in that layout (from 16 channels; the cells' 2C and 4C follow; a 1.065x
        faster train step at C=16, 5 layers, batch 32, 2 threads), except for PC-DARTS, whose
        channel slices and shuffles are not contiguous channels-last tensors. The reference
        backend stays NCHW, as the DARTS code it mirrors."""
        c = self.cfg
        return (
            self.device.type == "cpu"
            and c.backend == "fused"
            and c.partial_channels == 1
            and cpu_kernels_channels_last(c.channels)
        )

    def _build_stage(self, stage: int) -> None:
        c = self.cfg
        C_in, H, W = self.data.shape
        self.net = SearchNetwork(
            c.channels,
            self.data.num_classes,
            c.stages_layers()[stage],
            in_channels=C_in,
            image_size=(H, W),
            backend=c.backend,
            sampler=c.sampler,
            partial_channels=c.partial_channels,
            op_mask=self.op_mask,
            channels_last=self._channels_last(),
        ).to(self.device)
        self.dp.broadcast_state_(self.net)
        self.net.generator = self.gumbel_gen
        # foreach: one multi-tensor update for the ~900 weight tensors (also on CPU)
        self.w_opt = torch.optim.SGD(
            self.net.weight_parameters(),
            lr=c.lr,
            momentum=c.momentum,
            weight_decay=c.weight_decay,
            foreach=True,
        )
        self.costs = None
        penalty = None
        if c.complexity_weight > 0:
            self.costs = edge_costs(self.net, c.complexity, c.cost_table).to(self.device)
            penalty = self._penalty
        self.architect = Architect(
            self.net,
            self.w_opt,
            order=self.order,
            lr=c.arch_lr,
            betas=(0.5, 0.999),
            weight_decay=c.arch_weight_decay,
            arch_penalty=penalty,
            data_parallel=self.dp,
        )
        self.stage = stage

    def _penalty(self) -> torch.Tensor:
        return self.cfg.complexity_weight * expected_cost(self.net, self.costs)

    def _prune_ops(self, keep: int) -> None:
        """P-DARTS: keep ``keep`` ops per edge (``none`` always kept and counted), by weight."""
        net = self.net
        mask = self.op_mask.clone()
        with torch.no_grad():
            for t, reduce in enumerate((False, True)):
                p = net.probabilities(reduce).detach().cpu().clone()
                p[:, NONE] = float("inf")  # 'none' always survives
                p[~mask[t]] = float("-inf")
                order = p.argsort(dim=1, descending=True, stable=True)
                new = torch.zeros_like(mask[t])
                new.scatter_(1, order[:, :keep], True)
                mask[t] &= new
        self.op_mask = mask

    def _enter_stage(self, stage: int) -> None:
        if stage > 0 and self.net is not None:
            self._prune_ops(self.cfg.stage_ops[stage - 1])
            self.log(
                f"P-DARTS stage {stage + 1}: {self.cfg.stages_layers()[stage]} layers, "
                f"{self.cfg.stage_ops[stage - 1]} ops per edge"
            )
        self._build_stage(stage)

    # -- checkpoint --------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "kind": "search",
            "format": 1,
            "config": dataclasses.asdict(self.cfg),
            "step": self.step,
            "stage": self.stage,
            "elapsed": self.elapsed,
            "op_mask": self.op_mask,
            "net": self.net.state_dict(),
            "w_opt": self.w_opt.state_dict(),
            "a_opt": self.architect.optimizer.state_dict(),
            **rng_state(self.device, gumbel=self.gumbel_gen),
            "history": self.history,
        }

    def save_checkpoint(self) -> str:
        """Write the checkpoint, refusing a state whose weights or alphas are not finite."""
        if not tensors_finite(list(self.net.parameters())):
            raise Diverged(
                f"diverged by step {self.step}: the network's weights or alphas are not finite; "
                f"{DIVERGED_HINT}; {self._checkpoint_note()}"
            )
        path = os.path.join(self.out, CHECKPOINT)
        if self.dp.is_main:
            save_checkpoint(self.state(), path)
        self.saved_step = self.step
        return path

    def _checkpoint_note(self) -> str:
        return last_checkpoint_note(os.path.join(self.out, CHECKPOINT), self.saved_step)

    def load_checkpoint(self) -> None:
        ck = load_checkpoint(os.path.join(self.out, CHECKPOINT), kind="search", keys=_STATE_KEYS)
        stored = {"batch_shards": 1, **plain(ck.get("config", {}))}
        check_settings(stored, plain(dataclasses.asdict(self.cfg)), ignore=("backend",))
        self.op_mask = ck["op_mask"].bool()
        torch.set_rng_state(ck["torch_rng"])
        self._build_stage(ck["stage"])
        self.net.load_state_dict(ck["net"])
        self.w_opt.load_state_dict(ck["w_opt"])
        self.architect.optimizer.load_state_dict(ck["a_opt"])
        restore_rng(ck, self.device, gumbel=self.gumbel_gen)
        self.step, self.elapsed, self.history = ck["step"], ck["elapsed"], ck["history"]
        self.saved_step = self.step
        if self.dp.is_main:
            truncate_metrics(
                os.path.join(self.out, METRICS_FILE),
                lambda r: r.get("step", self.step) < self.step,
            )

    # -- the loop ----------------------------------------------------------------------------
    def _record_history(self) -> None:
        with torch.no_grad():
            self.history.append(
                {
                    "step": self.step,
                    "normal": self.net.probabilities(False).detach().cpu().float(),
                    "reduce": self.net.probabilities(True).detach().cpu().float(),
                }
            )

    def run(
        self,
        *,
        resume: bool = False,
        max_steps: int | None = None,
        plots: bool = True,
        overwrite: bool = False,
        checkpoint_every: int = 0,
    ) -> Genotype:
        """Search until the end (or ``max_steps``) and return the derived genotype.

        A fresh run refuses an ``out`` holding a run unless ``overwrite``. The checkpoint is
        written at every epoch end, every ``checkpoint_every`` steps (> 0) and at the end.
        Ctrl-C finishes the current step, writes the checkpoint and raises
        :class:`~nasfast.runs.RunInterrupted`; a non-finite loss, gradient norm or alpha raises
        :class:`~nasfast.runs.Diverged` before the step's weight update, keeping the last
        checkpoint (written only from finite states) and deriving nothing.
        """
        c = self.cfg
        if max_steps is not None:
            check_int("max_steps", max_steps, 0)
        check_int("checkpoint_every", checkpoint_every, 0)
        # every process checks the folder before the main one changes it: all refuse together
        prepare_out(self.out, RUN_FILES, resume=resume, overwrite=overwrite, check_only=True)
        self.dp.barrier()
        if self.dp.is_main:
            prepare_out(self.out, RUN_FILES, resume=resume, overwrite=overwrite)
        if resume:
            self.load_checkpoint()
        else:
            torch.manual_seed(c.seed)
            self._enter_stage(0)
            if self.dp.is_main:
                with open(os.path.join(self.out, METRICS_FILE), "w"):
                    pass
        stop = self.total_steps if max_steps is None else min(self.total_steps, max_steps)
        if self.step == 0 and not self.history:
            self._record_history()
        bar = tqdm(
            total=stop,
            initial=min(self.step, stop),
            disable=not self.progress,
            unit="step",
            desc=f"darts {self.order}" + (" gumbel" if c.sampler == "gumbel" else ""),
        )
        try:
            # under torch.distributed a Ctrl-C reaches the processes at different steps: stop
            # at once there, as before
            with StopRequest(enabled=not self.dp.distributed) as ctrl_c:
                self._loop(stop, checkpoint_every, bar, ctrl_c)
        finally:
            bar.close()
        if not self.history or self.history[-1]["step"] != self.step:
            self._record_history()
        self.save_checkpoint()
        self.dp.barrier()  # rank 0's checkpoint is on disk before any process goes on
        genotype = self.genotype()
        if not self.dp.is_main:
            return genotype
        genotype.save(os.path.join(self.out, GENOTYPE_FILE))
        if plots:
            from nasfast.darts.plots import plot_alpha_history, plot_genotype

            plot_alpha_history(self.history, self.out)
            plot_genotype(genotype, self.out)
        return genotype

    def _loop(self, stop: int, checkpoint_every: int, bar: tqdm, ctrl_c: StopRequest) -> None:
        every = max(1, self.total_steps // 60)
        t0 = time.perf_counter() - self.elapsed
        metrics_path = os.path.join(self.out, METRICS_FILE) if self.dp.is_main else os.devnull
        with open(metrics_path, "a") as metrics:
            while self.step < stop:
                info = self.locate(self.step)
                if info.stage != self.stage:
                    self._enter_stage(info.stage)
                t_step = time.perf_counter()
                rec = self._one_step(info)
                self.step += 1
                now = time.perf_counter()
                self.elapsed = now - t0
                rec["elapsed_s"] = round(self.elapsed, 4)
                rec["step_s"] = round(now - t_step, 4)
                metrics.write(json_line(rec))
                metrics.flush()
                bar.update(1)
                bar.set_postfix(loss=f"{rec['train_loss']:.3f}", val_acc=f"{rec['val_acc']:.3f}")
                if self.step % every == 0 or self.step == self.total_steps:
                    self._record_history()
                at_epoch_end = self.step % self.steps_per_epoch == 0
                if at_epoch_end or (checkpoint_every and self.step % checkpoint_every == 0):
                    self.save_checkpoint()
                if ctrl_c.requested:
                    raise RunInterrupted(self.step, self.save_checkpoint())

    def _one_step(self, info: StepInfo) -> dict:
        c, net = self.cfg, self.net
        lr = self.lr_at(info)
        for g in self.w_opt.param_groups:
            g["lr"] = lr
        net.tau = self.tau_at(info)
        net.skip_drop = self.skip_drop_at(info)
        net.train()
        x, y, xv, yv = self.batches(info.epoch, info.batch)
        if info.stage_epoch >= c.warmup_epochs:
            val_loss, val_logits = self.architect.step(x, y, xv, yv, lr)
        else:
            with torch.no_grad():
                val_logits = torch.cat([net(s) for (s,) in self.dp.split(xv)])
                val_loss = F.cross_entropy(val_logits, self.dp.local(yv))
        loss, logits = self._weight_gradients(x, y)
        grad_norm = torch.nn.utils.clip_grad_norm_(
            net.weight_parameters(), c.grad_clip, foreach=True
        )
        y, yv = self.dp.local(y), self.dp.local(yv)
        values = self.dp.mean_of_processes(
            [
                float(loss),
                float((logits.argmax(1) == y).float().mean()),
                float(val_loss),
                float((val_logits.argmax(1) == yv).float().mean()),
            ]
        )
        # the same values on every process: all stop together
        check_finite_values(
            self.step,
            f"{DIVERGED_HINT}; {self._checkpoint_note()}",
            val_loss=values[2],
            train_loss=values[0],
            grad_norm=float(grad_norm),
        )
        self.w_opt.step()
        for a in net.arch_parameters():
            a.grad = None
        rec = {"step": self.step, "epoch": info.epoch}
        for name, v in zip(("train_loss", "train_acc", "val_loss", "val_acc"), values, strict=True):
            rec[name] = round(v, 6)
        rec["lr"] = lr
        if c.progressive:
            rec["stage"] = info.stage
            rec["skip_dropout"] = net.skip_drop
        if c.sampler == "gumbel":
            rec["tau"] = net.tau
        if self.costs is not None:
            with torch.no_grad():
                rec[f"expected_{c.complexity}"] = float(expected_cost(net, self.costs))
        return rec

    def _weight_gradients(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, torch.Tensor]:
        """The global batch's weight gradients in ``.grad``; this process's mean shard loss and
        its shards' logits."""
        self.w_opt.zero_grad(set_to_none=True)
        losses, outputs = [], []
        for xs, ys in self.dp.split(x, y):
            logits = self.net(xs)
            loss = F.cross_entropy(logits, ys)
            loss.backward()
            losses.append(float(loss.detach()))
            outputs.append(logits.detach())
        self.dp.average_gradients_(self.net.weight_parameters())
        return sum(losses) / len(losses), torch.cat(outputs)

    def genotype(self) -> Genotype:
        net = self.net
        betas = {}
        if net.betas_normal is not None:
            betas = {
                "betas_normal": net.betas_normal.detach().cpu().double().numpy(),
                "betas_reduce": net.betas_reduce.detach().cpu().double().numpy(),
            }
        g = derive_genotype(
            net.alphas_normal.detach().cpu().double().numpy(),
            net.alphas_reduce.detach().cpu().double().numpy(),
            steps=net.steps,
            multiplier=net.multiplier,
            op_mask=self.op_mask.numpy(),
            max_skips=None if self.cfg.max_skips < 0 else self.cfg.max_skips,
            **betas,
        )
        g.extra = {
            "dataset": self.cfg.dataset,
            "steps": self.step,
            "total_steps": self.total_steps,
            "complete": self.step >= self.total_steps,
            "search_seconds": round(self.elapsed, 3),
            "order": self.order,
            "config": dataclasses.asdict(self.cfg),
        }
        if betas:
            g.extra.update({k: v.tolist() for k, v in betas.items()})
        if self.cfg.progressive:
            g.extra["op_mask_normal"] = self.op_mask[0].int().tolist()
            g.extra["op_mask_reduce"] = self.op_mask[1].int().tolist()
        return g
