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
        max_invalid: policy samples per candidate that may violate the space's constraints;
            each is kept and enters the next policy step with a penalized reward (below every
            reward seen), and after that many the candidate is a uniform valid sample.
    """

    name = "reinforce"

    def __init__(
        self,
        lr: float = 0.05,
        baseline_decay: float = 0.9,
        batch_size: int = 1,
        max_invalid: int = 100,
    ) -> None:
        if isinstance(max_invalid, bool) or not isinstance(max_invalid, int) or max_invalid < 1:
            raise ValueError(f"max_invalid: expected an int >= 1, got {max_invalid!r}")
        self.max_invalid = max_invalid
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
        self.invalid: list[Candidate] = []  # invalid samples since the last policy step
        self.worst: float | None = None  # lowest reward seen, and the spread of rewards
        self.best: float | None = None

    def probabilities(self) -> np.ndarray:
        """Current policy, shape (positions, max choices); padded entries are 0."""
        z = np.where(self.mask, self.logits, -np.inf)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def ask(self) -> list[Candidate]:
        cdf = self.probabilities().cumsum(axis=1)
        out = []
        for _ in range(self.batch_size):
            for _ in range(self.max_invalid):
                u = self.rng.random((cdf.shape[0], 1))
                c = tuple(
                    min(int(v), int(n) - 1)
                    for v, n in zip((cdf < u).sum(axis=1), self.space.n_choices, strict=True)
                )
                if self.space.is_valid(c):
                    break
                if len(self.invalid) < 10 * self.batch_size:
                    self.invalid.append(c)
            else:
                c = self.space.sample(self.rng, 1)[0]
            out.append(c)
        return out

    def _with_invalid(self, cands, rewards: np.ndarray) -> tuple[list, np.ndarray]:
        """The told candidates plus the invalid samples, these with a penalized reward."""
        self.worst = float(min(rewards.min(), self.worst if self.worst is not None else np.inf))
        self.best = float(max(rewards.max(), self.best if self.best is not None else -np.inf))
        invalid, self.invalid = self.invalid, []
        if not invalid:
            return list(cands), rewards
        spread = self.best - self.worst
        penalty = self.worst - (spread if spread > 0 else max(abs(self.worst), 1.0))
        return [*cands, *invalid], np.concatenate([rewards, np.full(len(invalid), penalty)])

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        if not cands:
            return
        rewards = np.asarray(self.problem.fitness(metrics), dtype=float)
        baseline_rewards = rewards
        cands, rewards = self._with_invalid(cands, rewards)
        if self.baseline is None:
            self.baseline = float(baseline_rewards.mean())
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
        for r in baseline_rewards:
            self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * r
