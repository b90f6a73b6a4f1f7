"""Training-free search in the manner of NASWOT (Mellor et al., "Neural Architecture Search
without Training", ICML 2021): score many sampled cells by a zero-cost proxy, then evaluate only
the best-scored few."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from nasfast.search.base import Strategy
from nasfast.search.problem import Metrics
from nasfast.spaces.discrete import Candidate
from nasfast.spaces.nb201 import NB201Space

Proxy = Callable[[list[Candidate]], Any]


class NASWOT(Strategy):
    """Sample ``n_samples`` distinct candidates, score them all with ``proxy`` (higher is better),
    and ask them in decreasing score order, ``batch_size`` at a time, until ``top_k`` are
    evaluated (``None``: until the budget ends). The best evaluated one is the result.

    Args:
        proxy: ``f(candidates) -> scores`` (any scorer: a zero-cost proxy, a predictor's mean),
            or on NAS-Bench-201 a name of a zero-cost number the table holds (``params``,
            ``flops``, ``zen``). Default on NAS-Bench-201: ``params``.
        n_samples: candidates scored.
        batch_size: candidates per ask.
        top_k: most candidates evaluated.
    """

    name = "naswot"

    def __init__(
        self,
        proxy: Proxy | str | None = None,
        n_samples: int = 1000,
        batch_size: int = 10,
        top_k: int | None = None,
    ) -> None:
        if proxy is not None and not isinstance(proxy, str) and not callable(proxy):
            raise ValueError(f"proxy: expected a callable or a name, got {type(proxy).__name__}")
        for name, v in (("n_samples", n_samples), ("batch_size", batch_size), ("top_k", top_k)):
            if v is None and name == "top_k":
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
        self.proxy = proxy
        self.n_samples = n_samples
        self.batch_size = batch_size
        self.top_k = top_k

    def _resolve_proxy(self) -> Proxy:
        if callable(self.proxy):
            return self.proxy
        if not isinstance(self.space, NB201Space):
            raise ValueError(
                f"proxy: expected a callable scoring candidates of {type(self.space).__name__} "
                "(named proxies exist for NAS-Bench-201 only)"
            )
        from nasfast.estimate.predictors import table_proxy_features

        dataset = getattr(self.problem.objective, "dataset", "cifar10")
        return table_proxy_features(dataset, [self.proxy or "params"])

    def _setup(self) -> None:
        proxy = self._resolve_proxy()
        n = min(self.n_samples, self.space.size)
        pool: dict[Hashable, Candidate] = {}  # one candidate per canonical key
        for _ in range(100):
            for c in self.space.sample(self.rng, n - len(pool)):
                pool.setdefault(self.space.canonical(c), c)
            if len(pool) >= n:
                break
        cands = list(pool.values())
        scores = np.asarray(proxy(cands), dtype=float).reshape(-1)
        if scores.shape != (len(cands),) or not np.isfinite(scores).all():
            raise ValueError(
                f"proxy: expected {len(cands)} finite scores, got shape {scores.shape}"
                + ("" if scores.shape != (len(cands),) else " with NaN or inf")
            )
        order = np.argsort(-scores, kind="stable")
        self.queue = [cands[i] for i in order]
        self.scores = {cands[i]: float(scores[i]) for i in order}
        self.n_asked = 0

    def ask(self) -> list[Candidate]:
        limit = len(self.queue) if self.top_k is None else min(self.top_k, len(self.queue))
        batch = self.queue[self.n_asked : min(self.n_asked + self.batch_size, limit)]
        self.n_asked += len(batch)
        return batch

    def tell(self, cands: Sequence[Candidate], metrics: Sequence[Metrics]) -> None:
        """Nothing to learn: the order was fixed by the proxy."""
