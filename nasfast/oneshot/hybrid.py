"""Hybrid one-shot search: evolution over a trained NAS-Bench-201 supernet.

1. Train :class:`~nasfast.nn.NB201Supernet` on real images with uniform single-path sampling
   (:func:`~nasfast.oneshot.supernet_training.train_supernet`).
2. Optionally learn DARTS architecture logits on the trained supernet and start the population
   with the argmax cell and samples of ``softmax(alpha)``: gradient, then evolution.
3. Search with regularized evolution or NSGA-II from ``nasfast.search``, the initial population
   passed as the strategy's ``sampling=``; each generation is scored in one batched supernet pass
   (:class:`~nasfast.oneshot.objective.SupernetObjective`), with params / FLOPs / latency of the
   NAS-Bench-201 network from the shipped table as further objectives.

Why this lives in ``nasfast.oneshot`` and ``oneshot`` sits above ``nasfast.search``: a one-shot
method is a trained supernet *plus* a search over it (SPOS evolves over its supernet), so the
pipeline needs the strategies and the loop, while a strategy never needs a supernet. Putting the
pipeline here keeps every dependency pointing down: oneshot -> search -> tabular -> spaces.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from nasfast.nn import NB201Supernet
from nasfast.oneshot.objective import SupernetObjective
from nasfast.oneshot.supernet_training import seeds_from_alphas, train_alphas, train_supernet
from nasfast.search import Problem, Scalarization, SearchResult, make_strategy, minimize
from nasfast.spaces.discrete import Candidate
from nasfast.spaces.nb201 import NB201Space

ALGOS = ("rea", "nsga2")
BN_MODES = ("batch", "running")


def strategy_settings(algo: str, generation: int, population: int | None = None) -> dict[str, Any]:
    """Settings of ``rea`` (children of a generation scored together) or ``nsga2``
    (pop = generation) for :func:`nasfast.search.make_strategy`."""
    if algo == "rea":
        pop = population or max(generation, 10)
        return {
            "population_size": pop,
            "sample_size": max(2, min(pop, pop // 4)),
            "batch_size": generation,
        }
    if algo == "nsga2":
        return {"pop_size": max(2, population or generation), "n_offsprings": generation}
    raise ValueError(f"algo: expected one of {', '.join(ALGOS)}, got {algo!r}")


def search(
    objective: SupernetObjective,
    *,
    algo: str = "rea",
    objectives: Sequence[str] = ("accuracy",),
    budget: int = 200,
    generation: int = 32,
    population: int | None = None,
    initial: Sequence[Candidate] = (),
    seed: int = 0,
    progress: bool = False,
) -> SearchResult:
    """Run the evolutionary strategy over the supernet; returns nasfast's ``SearchResult``.

    ``objectives``: ``accuracy`` (maximized) first, then any of the objective's cost metrics
    (minimized). Regularized evolution with several objectives scalarizes them (weighted sum of
    the normalized objectives, equal weights); NSGA-II searches the front. ``initial``: cells the
    first population starts with (the rest uniform samples).
    """
    objectives = list(objectives)
    if not objectives or objectives[0] != "accuracy":
        raise ValueError(f"objectives: expected 'accuracy' first, got {objectives}")
    missing = [o for o in objectives[1:] if o not in objective.costs]
    if missing:
        raise ValueError(f"objectives: {missing} are not costs of the objective {objective.costs}")
    specs = [("accuracy", "max")] + [(o, "min") for o in objectives[1:]]
    scal = Scalarization("weighted") if algo == "rea" and len(objectives) > 1 else None
    bounds = objective.bounds()[: len(objectives)]
    problem = Problem(
        NB201Space(), objective, specs, batched=True, scalarization=scal, bounds=bounds
    )
    settings = strategy_settings(algo, generation, population)
    strategy = make_strategy(algo, sampling=list(initial), **settings)
    return minimize(problem, strategy, budget, seed=seed, progress=progress)


@dataclass
class HybridConfig:
    """Every setting of a hybrid search, named as the flags of ``nasfast search hybrid``."""

    data: str | None = None
    algo: str = "rea"
    objectives: list[str] = field(default_factory=lambda: ["accuracy"])
    cost_dataset: str = "cifar10"
    budget: int = 200
    generation: int = 32
    population: int | None = None
    seed: int = 0
    C: int = 8
    N: int = 1
    steps: int = 300
    batch_size: int = 64
    paths: int = 4
    lr: float = 0.05
    bn: str = "batch"
    val_images: int = 1000
    train_images: int | None = None
    darts_steps: int = 0

    def validate(self) -> None:
        names = ("budget", "generation", "C", "N", "steps", "batch_size", "paths", "val_images")
        for name in names:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        if self.darts_steps < 0:
            raise ValueError(f"darts_steps: expected >= 0, got {self.darts_steps}")
        if self.algo not in ALGOS:
            raise ValueError(f"algo: expected rea or nsga2, got {self.algo!r}")
        if self.bn not in BN_MODES:
            raise ValueError(f"bn: expected batch or running, got {self.bn!r}")
        if not self.objectives or self.objectives[0] != "accuracy":
            raise ValueError(f"objectives: expected accuracy first, got {self.objectives!r}")


@dataclass
class HybridRun:
    """What a hybrid search produced: the search result, the objective that scored it (its
    counters and timings), the supernet's training losses and the DARTS alphas (if learned)."""

    config: HybridConfig
    result: SearchResult
    objective: SupernetObjective
    losses: list[float]
    train_seconds: float
    alpha: torch.Tensor | None


def run_hybrid(
    config: HybridConfig,
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    *,
    checkpoint: str | None = None,
    progress: bool = False,
) -> HybridRun:
    """Split the images into train / validation, train the supernet (resuming ``checkpoint``
    when it exists), optionally learn the alphas, then search."""
    c = config
    c.validate()
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(c.seed))
    if c.val_images >= x.shape[0]:
        raise ValueError(f"val_images: expected fewer than the {x.shape[0]} train images")
    val, train = perm[: c.val_images], perm[c.val_images :]
    if c.train_images is not None:
        train = train[: c.train_images]
    torch.manual_seed(c.seed)
    net = NB201Supernet(C=c.C, N=c.N, num_classes=num_classes, in_channels=x.shape[1])
    t0 = time.perf_counter()
    losses = train_supernet(
        net,
        x[train],
        y[train],
        steps=c.steps,
        batch_size=c.batch_size,
        paths=c.paths,
        lr=c.lr,
        seed=c.seed,
        checkpoint=checkpoint,
        progress=progress,
    )
    train_s = time.perf_counter() - t0
    initial, alpha = [], None
    if c.darts_steps:
        alpha = train_alphas(
            net, x[train], y[train], steps=c.darts_steps, batch_size=c.batch_size, seed=c.seed
        )
        initial = seeds_from_alphas(alpha, max(2, c.generation // 2), seed=c.seed)
    objective = SupernetObjective(
        net, x[val], y[val], costs=c.objectives[1:], dataset=c.cost_dataset, bn=c.bn
    )
    result = search(
        objective,
        algo=c.algo,
        objectives=c.objectives,
        budget=c.budget,
        generation=c.generation,
        population=c.population,
        initial=initial,
        seed=c.seed,
        progress=progress,
    )
    return HybridRun(c, result, objective, losses, train_s, alpha)
