"""One DARTS search-cell edge: the eight primitives mixed by given weights.

The module layout (``ops.<k>...``) is the same for every backend, so state dicts cross between
them. ``backend="reference"`` is the Python loop of the DARTS reference search cell.
"""

from __future__ import annotations

import torch
from torch import nn

from nasfast.nn.darts_primitives import PRIMITIVES, make_primitive

BACKENDS = ("fused", "reference")


class DartsEdge(nn.Module):
    def __init__(self, C: int, stride: int, *, backend: str = "fused"):
        super().__init__()
        if not isinstance(C, int) or C < 1:
            raise ValueError(f"C: expected a positive channel count, got {C!r}")
        if stride not in (1, 2):
            raise ValueError(f"stride: expected 1 or 2, got {stride!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
        if stride == 2 and C % 2:
            raise ValueError(f"C: a stride-2 edge needs an even channel count, got {C}")
        self.C, self.stride, self.backend = C, stride, backend
        self.ops = nn.ModuleList(make_primitive(p, C, stride) for p in PRIMITIVES)

    def extra_repr(self) -> str:
        return f"C={self.C}, stride={self.stride}, backend={self.backend!r}"

    def _check(self, x: torch.Tensor, weights: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x: expected a 4-D [N, C, H, W] tensor, got {shape}")
        if x.shape[1] != self.C:
            raise ValueError(f"x: expected {self.C} channels (C of this edge), got {x.shape[1]}")
        if not isinstance(weights, torch.Tensor) or weights.shape != (len(PRIMITIVES),):
            shape = tuple(weights.shape) if isinstance(weights, torch.Tensor) else weights
            raise ValueError(f"weights: expected shape [{len(PRIMITIVES)}], got {shape}")
        if weights.device != x.device:
            raise ValueError(f"weights: expected device {x.device} (as x), got {weights.device}")

    def forward(
        self, x: torch.Tensor, weights: torch.Tensor, *, single_path: bool = False
    ) -> torch.Tensor:
        """``sum_k weights[k] * op_k(x)``.

        ``single_path=True`` (GDAS, with hard one-hot ``weights``) computes only the op at
        ``argmax(weights)`` and keeps GDAS's gradient semantics: the output is
        ``weights[j] * op_j(x) + sum_{k != j} weights[k]`` (the unchosen weights are zero in the
        forward pass but still receive the sum of the output gradient).
        """
        self._check(x, weights)
        if self.backend == "reference":
            if single_path:
                j = int(weights.argmax())
                rest = weights.sum() - weights[j]
                return weights[j] * self.ops[j](x) + rest
            return sum(w * op(x) for w, op in zip(weights, self.ops))
        raise NotImplementedError("DartsEdge backend='fused' is not built yet (issue 3)")
