"""The supernet as a batched search objective: a whole generation scored in one pass."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from nasfast.nn import NB201Supernet
from nasfast.spaces.discrete import Candidate
from nasfast.tabular.nb201 import NB201Table


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
