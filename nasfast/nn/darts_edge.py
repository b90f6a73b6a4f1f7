"""One DARTS search-cell edge: the eight primitives mixed by given weights.

The module layout (``ops.<k>...``) is the same for every backend, so state dicts cross between
them. ``backend="reference"`` is the Python loop of the DARTS reference search cell. State dicts
of the DARTS reference code's ``MixedOp`` (which keeps its ops in ``_ops``) load as they are.
"""

from __future__ import annotations

import torch
from torch import nn

from nasfast.nn.darts_primitives import PRIMITIVES, make_primitive
from nasfast.ops.darts_edge import ALL_OPS, SLOT_OP, darts_edge_fused

BACKENDS = ("fused", "reference")
#: the automatic layout choice of the fused edge's CPU kernels (csrc/ops/darts_edge/
#: darts_edge_layout.h): channels-last from this many channels, in whole 32-byte vectors
MIN_CHANNELS_LAST = 16


def cpu_kernels_channels_last(C: int, dtype: torch.dtype = torch.float32) -> bool:
    """Whether the fused edge's CPU kernels compute channels-last for ``C`` channels of
    ``dtype`` (bfloat16 computes in float32); a channels-last input then needs no layout change.
    """
    itemsize = 4 if dtype == torch.bfloat16 else torch.empty((), dtype=dtype).element_size()
    return C >= MIN_CHANNELS_LAST and C % (32 // itemsize) == 0


def _tensor_attr(m: nn.Module, name: str) -> torch.Tensor:
    """``getattr(m, name)`` for a parameter or buffer, by a direct dict lookup: a fused edge reads
    ~40 of them per call, and ``nn.Module.__getattr__`` cost ~0.5 us each. Anything else (e.g. a
    parametrized weight) goes through ``getattr``."""
    t = m._parameters.get(name)
    if t is None:
        t = m._buffers.get(name)
    return t if t is not None else getattr(m, name)


def _reference_layout_keys(module: nn.Module, state_dict: dict, prefix: str, *args: object) -> None:
    """Rename the DARTS reference ``MixedOp``'s keys (``<prefix>_ops.<k>...``) to this module's
    (``<prefix>ops.<k>...``) before loading; the modules below them are named alike."""
    old = prefix + "_ops."
    for key in [k for k in state_dict if k.startswith(old)]:
        new = prefix + "ops." + key[len(old) :]
        if new not in state_dict:
            state_dict[new] = state_dict.pop(key)


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
        self.register_load_state_dict_pre_hook(_reference_layout_keys)

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
        if self.stride == 2 and (x.shape[2] % 2 or x.shape[3] % 2):
            # FactorizedReduce's two halves (x and x shifted by one pixel) differ in size for odd
            # H or W, so the reference cannot concatenate them: both backends refuse up front.
            raise ValueError(
                f"x: a stride-2 edge needs even H and W (FactorizedReduce), got "
                f"{tuple(x.shape[2:])}"
            )

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
            return sum(w * op(x) for w, op in zip(weights, self.ops, strict=True))
        return self._forward_fused(x, weights, single_path)

    # -- fused backend -------------------------------------------------------------------------

    def _fused_parts(self) -> tuple[list[nn.Module], list[nn.BatchNorm2d | None]]:
        """The conv modules (in the op's conv_weights order) and the BatchNorm of each slot
        (None: FR slot at stride 1), cached until a primitive module is replaced."""
        key = tuple(self.ops._modules.values())
        cached = self.__dict__.get("_parts_cache")
        if (
            cached is not None
            and len(cached[0]) == len(key)
            and all(a is b for a, b in zip(cached[0], key, strict=True))
        ):
            return cached[1], cached[2]
        o = self.ops
        # sep convs: dw1, pw1, dw2, pw2; dil convs: dw, pw (the op's conv_weights order)
        convs = [o[k].op[i] for k in (4, 5) for i in (1, 2, 5, 6)]
        convs += [o[k].op[i] for k in (6, 7) for i in (1, 2)]
        if self.stride == 2:
            convs += [o[3].conv_1, o[3].conv_2]
        fr = o[3].bn if self.stride == 2 else None
        slots = [o[1][1], o[2][1], fr, o[4].op[3], o[4].op[7], o[5].op[3], o[5].op[7]]
        slots += [o[6].op[3], o[7].op[3]]
        self.__dict__["_parts_cache"] = (key, convs, slots)
        return convs, slots

    def _conv_weights(self) -> list[torch.Tensor]:
        return [_tensor_attr(m, "weight") for m in self._fused_parts()[0]]

    def _forward_fused(
        self, x: torch.Tensor, weights: torch.Tensor, single_path: bool
    ) -> torch.Tensor:
        if x.dtype not in (torch.float32, torch.float64, torch.bfloat16):
            raise ValueError(
                f"x: the fused DartsEdge supports float32, float64 and bfloat16, got dtype "
                f"{x.dtype}"
            )
        weights = weights.to(x.dtype)
        convs, slots = self._fused_parts()
        if single_path:
            j = int(weights.argmax())
            rest = weights.sum() - weights[j]
            if j == 0:  # none: nothing to compute
                return weights[j] * self.ops[0](x) + rest
            active = 1 << j
        else:
            active = ALL_OPS
        training = self.training
        if (
            training
            and x.shape[0]
            * ((x.shape[2] - 1) // self.stride + 1)
            * ((x.shape[3] - 1) // self.stride + 1)
            == 1
        ):
            raise ValueError(
                f"x: training needs more than 1 value per channel for BatchNorm, got shape "
                f"{tuple(x.shape)}"
            )
        eps = slots[0].eps
        if training:
            running = x.new_empty(0)
        else:
            zero, one = x.new_zeros(self.C), x.new_ones(self.C)
            running = torch.stack(
                [
                    torch.stack([b.running_mean if b is not None else zero for b in slots]),
                    torch.stack([b.running_var if b is not None else one for b in slots]),
                ]
            )
        conv_weights = [_tensor_attr(m, "weight") for m in convs]
        out, stats = darts_edge_fused(
            x, weights, conv_weights, running, self.stride, training, eps, active
        )
        if training:
            self._update_running_stats(slots, stats, active)
        if single_path:
            out = out + rest
        return out

    def _update_running_stats(
        self, slots: list[nn.BatchNorm2d | None], stats: torch.Tensor, active: int
    ) -> None:
        # the fast path needs no torch.no_grad(): neither the buffers nor stats need a gradient
        used = [
            (i, b)
            for i, b in enumerate(slots)
            if b is not None and (active >> SLOT_OP[i]) & 1 and b.track_running_stats
        ]
        if not used:
            return
        momenta = {b.momentum for _, b in used}
        if len(momenta) == 1 and None not in momenta:
            # one op for every slot (a search step runs hundreds of edges)
            torch.ops.nasfast.darts_edge_running_update(
                [_tensor_attr(b, "running_mean") for _, b in used],
                [_tensor_attr(b, "running_var") for _, b in used],
                [_tensor_attr(b, "num_batches_tracked") for _, b in used],
                stats,
                [i for i, _ in used],
                momenta.pop(),
            )
            return
        with torch.no_grad():
            torch._foreach_add_([b.num_batches_tracked for _, b in used], 1)
            for i, b in used:
                m = b.momentum
                if m is None:  # cumulative moving average, as nn.BatchNorm2d
                    m = 1.0 / float(b.num_batches_tracked)
                b.running_mean.mul_(1 - m).add_(stats[0, i] * m)
                b.running_var.mul_(1 - m).add_(stats[2, i] * m)
