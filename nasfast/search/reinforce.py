"""REINFORCE (Williams, 1992) with a factorized categorical policy, as NAS-Bench-201 runs it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasfast.search.base import Strategy
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


class Reinforce(Strategy):
    """A categorical distribution per position; its logits follow the policy gradient of the
    fitness minus a moving-average baseline, with Adam (Kingma & Ba, 2015) steps.

    The policy is a few dozen numbers, so it lives in numpy (the gradient of a log-softmax is
    ``onehot - p``): a step costs microseconds, where a torch optimizer step costs far more.

    Args:
        lr: Adam learning rate on the logits.
        baseline_decay: the baseline is ``decay * baseline + (1 - decay) * reward``.
        batch_size: candidates sampled per ask; one policy step per tell.
    """

    name = "reinforce"

    def __init__(self, lr: float = 0.05, baseline_decay: float = 0.9, batch_size: int = 1) -> None:
        if lr <= 0:
            raise ValueError(f"lr: expected > 0, got {lr}")
        if not 0.0 <= baseline_decay < 1.0:
            raise ValueError(f"baseline_decay: expected 0 <= decay < 1, got {baseline_decay}")
        if batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
        self.lr = lr
        self.baseline_decay = baseline_decay
        self.batch_size = batch_size

    def _setup(self) -> None:
        n = self.space.n_choices
        self.mask = np.arange(int(n.max()))[None, :] < n[:, None]  # real choices
        self.logits = np.zeros(self.mask.shape)
        self.m = np.zeros_like(self.logits)  # Adam moments
        self.v = np.zeros_like(self.logits)
        self.t = 0
        self.baseline: float | None = None

    def probabilities(self) -> np.ndarray:
        """Current policy, shape (positions, max choices); padded entries are 0."""
        z = np.where(self.mask, self.logits, -np.inf)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def ask(self) -> list[Candidate]:
        cdf = self.probabilities().cumsum(axis=1)
        out = []
        for _ in range(self.batch_size):
            for _ in range(1000):
                u = self.rng.random((cdf.shape[0], 1))
                c = tuple(
                    min(int(v), int(n) - 1)
                    for v, n in zip((cdf < u).sum(axis=1), self.space.n_choices, strict=True)
                )
                if self.space.is_valid(c):
                    break
            out.append(c)
        return out

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        if not cands:
            return
        rewards = np.asarray(self.problem.fitness(metrics), dtype=float)
        if self.baseline is None:
            self.baseline = float(rewards.mean())
        adv = rewards - self.baseline
        p = self.probabilities()
        # gradient of the mean of adv * log pi(c) w.r.t. the logits (ascent direction)
        grad = np.zeros_like(self.logits)
        rows = np.arange(self.space.n_positions)
        for a, c in zip(adv, cands, strict=True):
            g = -p.copy()
            g[rows, np.asarray(c)] += 1.0
            grad += a * g
        grad = np.where(self.mask, grad / len(cands), 0.0)
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        self.m = b1 * self.m + (1 - b1) * grad
        self.v = b2 * self.v + (1 - b2) * grad**2
        mhat = self.m / (1 - b1**self.t)
        vhat = self.v / (1 - b2**self.t)
        self.logits += self.lr * mhat / (np.sqrt(vhat) + eps)
        for r in rewards:
            self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * r
