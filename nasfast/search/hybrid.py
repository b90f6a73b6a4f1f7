"""Hybrid one-shot search: evolution over a trained NAS-Bench-201 supernet.

1. Train :class:`~nasfast.nn.NB201Supernet` on real images with uniform single-path sampling:
   every step draws ``paths`` architectures and runs them together through the batched path
   (``forward_candidates``), loss averaged over paths (checkpointed, resumable).
2. Optionally learn DARTS architecture logits on the trained supernet (first order, weights
   frozen, continuous relaxation through the fused ``mixed_op``) and seed the first population
   with the argmax cell and samples of ``softmax(alpha)``: gradient, then evolution.
3. Search with regularized evolution or NSGA-II (nasfast.search, pymoo); each generation is scored
   in one batched supernet pass per validation batch (accuracy, ``bn="batch"`` recalibrates
   BatchNorm per candidate by default), with params / FLOPs / latency of the NAS-Bench-201
   network from the shipped table as further objectives.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from nasfast._atomic import read_checkpoint, torch_save_atomic
from nasfast.nn import NB201Supernet
from nasfast.search.evolution import RegularizedEvolution
from nasfast.search.nsga2 import NSGA2, SpaceSampling
from nasfast.spaces.discrete import Candidate

# ----------------------------------------------------------------------------- supernet training


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
) -> list[float]:
    """Uniform single-path training; returns the loss of every step done so far.

    SGD (Nesterov, momentum 0.9) with a cosine learning rate over ``steps``. With
    ``checkpoint``, the state is written atomically every ``checkpoint_every`` steps and at the
    end, and a run finds and resumes it (same result as an uninterrupted run). ``stop_after``
    ends the call after that many steps in total (an interruption, for tests).
    """
    for name, v, lo in (("steps", steps, 1), ("batch_size", batch_size, 1), ("paths", paths, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")
    if not lr > 0:
        raise ValueError(f"lr: expected a positive learning rate, got {lr}")
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"y: expected {x.shape[0]} labels (one per image), got {y.shape[0]}")
    opt = torch.optim.SGD(
        net.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay
    )
    start, losses = 0, []
    if checkpoint and os.path.exists(checkpoint):
        state = read_checkpoint(checkpoint)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        start, losses = int(state["step"]), list(state["losses"])
    end = steps if stop_after is None else min(steps, stop_after)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, initial=start, desc="supernet", leave=False)
    net.train()
    for step in range(start, end):
        g = _step_generator(seed, step)
        idx = torch.randint(0, x.shape[0], (batch_size,), generator=g)
        archs = torch.randint(0, 5, (paths, 6), generator=g)
        for group in opt.param_groups:
            group["lr"] = 0.5 * lr * (1 + math.cos(math.pi * step / steps))
        logits = net.forward_candidates(x[idx], archs)
        loss = F.cross_entropy(logits.flatten(0, 1), y[idx].repeat(paths))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        losses.append(float(loss.detach()))
        if bar is not None:
            bar.update(1)
        done = step + 1
        if checkpoint and (done % checkpoint_every == 0 or done == end):
            torch_save_atomic(
                {"net": net.state_dict(), "opt": opt.state_dict(), "step": done, "losses": losses},
                checkpoint,
            )
    if bar is not None:
        bar.close()
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
    alpha = torch.zeros(6, 5, requires_grad=True)
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


# ----------------------------------------------------------------------------- the objective


@dataclass
class SupernetObjective:
    """Batched objective: a whole generation scored by the supernet at once.

    Returns per candidate ``accuracy`` (% of ``x_val`` classified right by the supernet path),
    the NAS-Bench-201 table's cost metrics (``params``, ``flops``, ``latency:DEVICE`` of the
    benchmark's network on ``dataset``), ``index`` (official NB201 index) and ``final_acc`` (the
    table's 200-epoch accuracy, reported, never searched on).
    """

    net: NB201Supernet
    x_val: torch.Tensor
    y_val: torch.Tensor
    costs: Sequence[str] = ()
    dataset: str = "cifar10"
    batch_size: int = 500
    bn: str = "batch"
    table_path: str | None = None
    calls: int = 0
    scored: int = 0
    seconds: float = 0.0
    _cols: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from nasfast.tabular.nb201 import NB201Table

        self.table = NB201Table.load(self.table_path)
        for c in self.costs:
            self._cols[c] = self.table.column(self.table.resolve(c, self.dataset).column)
        self._final = self.table.column(self.table.final_accuracy_column(self.dataset))

    def accuracy(self, archs: torch.Tensor) -> torch.Tensor:
        correct = torch.zeros(archs.shape[0], dtype=torch.int64)
        self.net.eval()
        with torch.no_grad():
            for i in range(0, self.x_val.shape[0], self.batch_size):
                xb, yb = self.x_val[i : i + self.batch_size], self.y_val[i : i + self.batch_size]
                logits = self.net.forward_candidates(xb, archs, bn=self.bn)
                correct += (logits.argmax(-1) == yb).sum(dim=1)
        return 100.0 * correct.double() / self.x_val.shape[0]

    def __call__(self, cands: Sequence[Candidate]) -> list[dict]:
        t0 = time.perf_counter()
        archs = torch.tensor([list(c) for c in cands], dtype=torch.int64)
        acc = self.accuracy(archs)
        idx = self.table.indices_of(cands)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        self.scored += len(cands)
        out = []
        for k, c in enumerate(cands):
            m = {
                "accuracy": float(acc[k]),
                "index": int(idx[k]),
                "final_acc": float(self._final[idx[k]]),
            }
            for name, col in self._cols.items():
                m[name] = float(col[idx[k]])
            m["arch"] = "".join(str(v) for v in c)
            out.append(m)
        return out

    def bounds(self) -> list[tuple[float, float]]:
        return [(0.0, 100.0)] + [(float(c.min()), float(c.max())) for c in self._cols.values()]


# ----------------------------------------------------------------------------- seeded strategies


class SeededEvolution(RegularizedEvolution):
    """Regularized evolution whose first population starts with given cells (then uniform)."""

    name = "rea"

    def __init__(self, *args, seeds: Sequence[Candidate] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial = [tuple(int(v) for v in c) for c in seeds][: self.population_size]

    def ask(self) -> list[Candidate]:
        if self.n_told == 0 and self.initial and not self.seen:
            fill = self.space.sample(self.rng, self.population_size - len(self.initial))
            return self._fresh([*self.initial, *fill])
        return super().ask()


class _SeededSampling(SpaceSampling):
    def __init__(self, space, rng, seeds: Sequence[Candidate]) -> None:
        super().__init__(space, rng)
        self.seeds = [list(c) for c in seeds]

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        seeds = self.seeds[:n_samples]
        rest = self.space.sample(self.rng, n_samples - len(seeds)) if n_samples > len(seeds) else []
        return np.array([*seeds, *[list(c) for c in rest]], dtype=np.int64)


class SeededNSGA2(NSGA2):
    """NSGA-II whose initial population starts with given cells (then uniform samples)."""

    def __init__(self, *args, seeds: Sequence[Candidate] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial = [tuple(int(v) for v in c) for c in seeds]

    def _setup(self) -> None:
        super()._setup()
        if self.initial:
            self.algorithm.initialization.sampling = _SeededSampling(
                self.space, self.rng, self.initial
            )


# ----------------------------------------------------------------------------- the search


def make_strategy(
    algo: str, generation: int, seeds: Sequence[Candidate] = (), population: int | None = None
):
    """``rea`` (children of a generation scored together) or ``nsga2`` (pop = generation)."""
    if algo == "rea":
        pop = population or max(generation, 10)
        return SeededEvolution(
            population_size=pop,
            sample_size=max(2, min(pop, pop // 4)),
            batch_size=generation,
            seeds=seeds,
        )
    if algo == "nsga2":
        return SeededNSGA2(
            pop_size=max(2, population or generation), n_offsprings=generation, seeds=seeds
        )
    raise ValueError(f"algo: expected 'rea' or 'nsga2', got {algo!r}")


def search(
    objective: SupernetObjective,
    *,
    algo: str = "rea",
    objectives: Sequence[str] = ("accuracy",),
    budget: int = 200,
    generation: int = 32,
    population: int | None = None,
    seeds: Sequence[Candidate] = (),
    seed: int = 0,
    progress: bool = False,
):
    """Run the evolutionary strategy over the supernet; returns nasfast's ``SearchResult``.

    ``objectives``: ``accuracy`` (maximised) first, then any of the objective's cost metrics
    (minimised). Regularized evolution with several objectives scalarises them (weighted sum of
    the normalised objectives, equal weights); NSGA-II searches the front.
    """
    from nasfast.search import Problem, Scalarisation, minimize
    from nasfast.spaces.nb201 import NB201Space

    objectives = list(objectives)
    if not objectives or objectives[0] != "accuracy":
        raise ValueError(f"objectives: expected 'accuracy' first, got {objectives}")
    missing = [o for o in objectives[1:] if o not in objective.costs]
    if missing:
        raise ValueError(f"objectives: {missing} are not costs of the objective {objective.costs}")
    specs = [("accuracy", "max")] + [(o, "min") for o in objectives[1:]]
    scal = Scalarisation("weighted") if algo == "rea" and len(objectives) > 1 else None
    bounds = objective.bounds()[: len(objectives)]
    problem = Problem(
        NB201Space(), objective, specs, batched=True, scalarisation=scal, bounds=bounds
    )
    strategy = make_strategy(algo, generation, seeds, population)
    return minimize(problem, strategy, budget, seed=seed, progress=progress)
