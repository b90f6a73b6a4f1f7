"""MixedOp: a drop-in DARTS-style mixture over any list of modules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import torch
from torch import nn

from nasfast.ops.mixed_op import Mode, mixed_op


class MixedOp(nn.Module):
    """``sum_k w_k * ops[k](x)``, with ``w`` from architecture parameters.

    By default the module owns ``alpha`` (one logit per op, zeros at start) and mixes with
    ``softmax(alpha)``. Pass ``alpha=`` to ``forward`` to use external architecture parameters
    (as a DARTS cell shares them), and ``mode``/``tau``/``hard`` for Gumbel-softmax (GDAS).
    """

    def __init__(
        self,
        ops: Iterable[nn.Module],
        *,
        mode: Mode = "softmax",
        tau: float = 1.0,
        hard: bool = False,
        backend: Literal["fused", "reference"] = "fused",
        own_alpha: bool = True,
    ):
        super().__init__()
        self.ops = nn.ModuleList(ops)
        if len(self.ops) == 0:
            raise ValueError("ops: expected at least one module")
        self.mode, self.tau, self.hard, self.backend = mode, tau, hard, backend
        self.alpha = nn.Parameter(torch.zeros(len(self.ops))) if own_alpha else None

    def forward(
        self,
        x: torch.Tensor,
        alpha: torch.Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        a = self.alpha if alpha is None else alpha
        if a is None:
            raise ValueError("alpha: this MixedOp owns no alpha, pass one to forward()")
        outs = [op(x) for op in self.ops]
        return mixed_op(
            outs,
            a.to(outs[0].dtype),
            mode=self.mode,
            tau=self.tau,
            hard=self.hard,
            generator=generator,
            backend=self.backend,
        )
