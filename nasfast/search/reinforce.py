"""REINFORCE (Williams, 1992) with a factorised categorical policy, as NAS-Bench-201 runs it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from nasfast.search.base import Strategy
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate


class Reinforce(Strategy):
    """A categorical distribution per position (logits trained with Adam); the reward is the
    fitness, minus a moving-average baseline.

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
        self.logits = torch.zeros(len(n), int(n.max()), dtype=torch.float64, requires_grad=True)
        mask = np.arange(int(n.max()))[None, :] >= n[:, None]
        self.mask = torch.from_numpy(mask)
        self.opt = torch.optim.Adam([self.logits], lr=self.lr)
        self.baseline: float | None = None

    def probabilities(self) -> np.ndarray:
        """Current policy, shape (positions, max choices); padded entries are 0."""
        with torch.no_grad():
            return torch.softmax(self.logits.masked_fill(self.mask, -torch.inf), dim=1).numpy()

    def ask(self) -> list[Candidate]:
        p = self.probabilities()
        out = []
        for _ in range(self.batch_size):
            for _ in range(1000):
                u = self.rng.random((p.shape[0], 1))
                c = tuple(int(v) for v in (p.cumsum(axis=1) < u).sum(axis=1))
                c = tuple(min(v, int(n) - 1) for v, n in zip(c, self.space.n_choices, strict=True))
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
        adv = torch.from_numpy(rewards - self.baseline)
        logp = torch.log_softmax(self.logits.masked_fill(self.mask, -torch.inf), dim=1)
        idx = torch.as_tensor(np.asarray(cands, dtype=np.int64))
        chosen = logp.gather(1, idx.T).sum(dim=0)  # log-prob of each candidate
        loss = -(adv * chosen).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        for r in rewards:
            self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * r
