"""Choice modules for use inside any ``nn.Module``: a layer choice, an input choice, a repeat.

Built while recording (see :mod:`nasfast.spaces.model.context`) each keeps all its candidates and
runs its default candidate, or what an attached controller (a one-shot supernet) decides. Built
while frozen each returns the chosen part itself: the chosen candidate module, a
``torch.fx.GraphModule`` that picks and reduces the chosen inputs, an ``nn.Sequential`` of the
chosen number of blocks.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from nasfast.spaces.model.context import ChoiceSpec, Frozen, current, resolve

REDUCTIONS = ("sum", "mean", "concat")


class ChoiceModule(nn.Module):
    """Common part: the spec of the decision and the controller hook of one-shot methods."""

    spec: ChoiceSpec

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def controller(self) -> Any:
        return self.__dict__.get("_controller")

    def attach(self, controller: Any) -> None:
        """Hand decisions to ``controller`` (None: back to the default candidate)."""
        self.__dict__["_controller"] = controller

    def extra_repr(self) -> str:
        return f"label={self.label!r}, candidates={list(self.spec.values)}"


def _named(candidates: Sequence[nn.Module] | Mapping[str, nn.Module]) -> tuple[list[str], list]:
    if isinstance(candidates, Mapping):
        names, mods = [str(k) for k in candidates], list(candidates.values())
    elif isinstance(candidates, (list, tuple)):
        names, mods = [str(i) for i in range(len(candidates))], list(candidates)
    else:
        raise ValueError(
            f"candidates: expected a list or dict of nn.Module, got {type(candidates).__name__}"
        )
    if not mods:
        raise ValueError("candidates: expected at least one module")
    for n, m in zip(names, mods, strict=True):
        if not isinstance(m, nn.Module):
            raise ValueError(f"candidates: {n!r} is a {type(m).__name__}, expected an nn.Module")
        if "." in n or not n:
            raise ValueError(f"candidates: name {n!r} must be non-empty and contain no '.'")
    return names, mods


class LayerChoice(ChoiceModule):
    """One of several candidate modules, called like the module it stands for.

    ``candidates``: a list (names ``"0"``, ``"1"``, ...) or a dict name -> module. The
    architecture's value for this label is the chosen name. Candidates of a DARTS mixture must
    give outputs of one shape; single-path methods (SPOS, GDAS) allow any.
    """

    def __new__(
        cls,
        candidates: Sequence[nn.Module] | Mapping[str, nn.Module] | None = None,
        label: str | None = None,
    ):
        if candidates is None:  # copy / unpickle
            return super().__new__(cls)
        names, mods = _named(candidates)
        spec, value = resolve("layer", label, names)
        if isinstance(current(), Frozen):
            return mods[names.index(value)]
        return cls._build(spec, names, mods)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "_modules" not in self.__dict__:
            super().__init__()

    @classmethod
    def _build(cls, spec: ChoiceSpec, names: list[str], mods: list[nn.Module]) -> LayerChoice:
        obj = super().__new__(cls)
        nn.Module.__init__(obj)
        obj.spec = spec
        obj.names = names
        obj.candidates = nn.ModuleDict(dict(zip(names, mods, strict=True)))
        return obj

    @classmethod
    def from_values(
        cls,
        label: str | None,
        values: Sequence[Hashable],
        factory: Callable[[Any], nn.Module],
        *,
        shared: bool = False,
    ) -> nn.Module:
        """A module per value of a hyperparameter (kernel size, expansion, width):
        ``factory(value)``. The label is a value choice: :func:`choice` with the same label
        and values is the same decision. Frozen, only the chosen value's module is built.

        ``shared=True`` (widths): the candidates share one set of weights, those of the largest;
        a smaller candidate uses the leading slice of every parameter and buffer (the first
        ``w`` output rows, input columns, BatchNorm channels), as once-for-all / slimmable
        supernets do. Every candidate must have the same parameter names, each no larger than
        the largest's in any dimension."""
        spec, value = resolve("value", label, values)
        if isinstance(current(), Frozen):
            return factory(value)
        mods = [factory(v) for v in spec.values]
        if not shared:
            return cls._build(spec, [str(i) for i in range(len(mods))], mods)
        big = max(range(len(mods)), key=lambda i: sum(p.numel() for p in mods[i].parameters()))
        _check_prefix_shapes(spec.label, mods, big)
        obj = cls._build(spec, [str(big)], [mods[big]])
        obj.__dict__["_templates"] = mods  # shapes and code of each candidate, weights unused
        return obj

    @property
    def shared(self) -> bool:
        return "_templates" in self.__dict__

    def index_of(self, value: Any) -> int:
        return self.spec.values.index(value)

    def forward_index(self, i: int, *args: Any, **kwargs: Any) -> Any:
        """Run candidate ``i`` (position in the spec's values or names)."""
        if self.shared:
            template = self.__dict__["_templates"][i]
            big = self.candidates[self.names[0]]
            state = {**dict(big.named_parameters()), **dict(big.named_buffers())}
            own = {**dict(template.named_parameters()), **dict(template.named_buffers())}
            sliced = {k: _prefix(state[k], v.shape) for k, v in own.items()}
            template.train(self.training)
            return torch.func.functional_call(template, sliced, args, kwargs)
        return self.candidates[self.names[i]](*args, **kwargs)

    def forward_chosen(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        return self.forward_index(self.index_of(value), *args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        ctl = self.controller
        if ctl is None:
            return self.forward_chosen(self.spec.default, *args, **kwargs)
        return ctl.run_layer(self, args, kwargs)


def _prefix(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The leading ``shape`` block of ``t`` (a view: in-place updates reach ``t``)."""
    if t.shape == shape:
        return t
    return t[tuple(slice(0, n) for n in shape)]


def _check_prefix_shapes(label: str, mods: list[nn.Module], big: int) -> None:
    ref = {**dict(mods[big].named_parameters()), **dict(mods[big].named_buffers())}
    for i, m in enumerate(mods):
        own = {**dict(m.named_parameters()), **dict(m.named_buffers())}
        if set(own) != set(ref):
            raise ValueError(
                f"shared: candidates of {label!r} must have the same parameters to share weights"
            )
        for k, t in own.items():
            if t.dim() != ref[k].dim() or any(a > b for a, b in zip(t.shape, ref[k].shape)):
                raise ValueError(
                    f"shared: {label!r} candidate {i} has {k} of shape {tuple(t.shape)}, not a "
                    f"slice of the largest candidate's {tuple(ref[k].shape)}"
                )


def chosen_inputs_module(
    n_candidates: int, chosen: Sequence[int], reduction: str, dim: int = 1
) -> torch.fx.GraphModule:
    """A plain torch module ``f(inputs) -> reduction of inputs[i] for i in chosen``."""
    g = torch.fx.Graph()
    xs = g.placeholder("inputs")
    items = [g.call_function(operator.getitem, (xs, int(i))) for i in chosen]
    if reduction == "concat":
        out = g.call_function(torch.cat, (items,), {"dim": dim})
    else:
        out = items[0]
        for item in items[1:]:
            out = g.call_function(operator.add, (out, item))
        if reduction == "mean" and len(items) > 1:
            out = g.call_function(operator.truediv, (out, float(len(items))))
    g.output(out)
    return torch.fx.GraphModule(nn.Module(), g, class_name="ChosenInputs")


def reduce_inputs(items: Sequence[torch.Tensor], reduction: str, dim: int = 1) -> torch.Tensor:
    if reduction == "concat":
        return torch.cat(list(items), dim=dim)
    out = items[0]
    for t in items[1:]:
        out = out + t
    return out / len(items) if reduction == "mean" and len(items) > 1 else out


class InputChoice(ChoiceModule):
    """Pick ``n_chosen`` of ``n_candidates`` inputs and reduce them (``sum``, ``mean`` or
    ``concat`` along ``dim``). Called with the list of candidate tensors; the architecture's
    value is the sorted tuple of chosen indices."""

    def __new__(
        cls,
        n_candidates: int | None = None,
        n_chosen: int = 1,
        reduction: str = "sum",
        label: str | None = None,
        dim: int = 1,
    ):
        if n_candidates is None:
            return super().__new__(cls)
        for name, v in (("n_candidates", n_candidates), ("n_chosen", n_chosen)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
        if n_chosen > n_candidates:
            raise ValueError(f"n_chosen: expected <= n_candidates ({n_candidates}), got {n_chosen}")
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction: expected one of {REDUCTIONS}, got {reduction!r}")
        combos = list(itertools.combinations(range(n_candidates), n_chosen))
        spec, value = resolve("input", label, combos)
        if isinstance(current(), Frozen):
            return chosen_inputs_module(n_candidates, value, reduction, dim)
        obj = super().__new__(cls)
        nn.Module.__init__(obj)
        obj.spec, obj.n_candidates, obj.n_chosen = spec, n_candidates, n_chosen
        obj.reduction, obj.dim = reduction, dim
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "_modules" not in self.__dict__:
            super().__init__()

    def _check(self, inputs: Sequence[torch.Tensor]) -> None:
        if not isinstance(inputs, (list, tuple)) or len(inputs) != self.n_candidates:
            n = len(inputs) if isinstance(inputs, (list, tuple)) else type(inputs).__name__
            raise ValueError(
                f"inputs: choice {self.label!r} expects a list of {self.n_candidates} tensors, "
                f"got {n}"
            )

    def forward_chosen(self, value: Sequence[int], inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        return reduce_inputs([inputs[i] for i in value], self.reduction, self.dim)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        self._check(inputs)
        ctl = self.controller
        if ctl is None:
            return self.forward_chosen(self.spec.default, inputs)
        return ctl.run_input(self, inputs)


class Repeat(ChoiceModule):
    """``depth`` blocks in sequence, ``depth`` one of ``depths``: ``factory(i)`` builds block i
    (give inner choices labels with ``i`` in them for independent blocks, or one label for
    blocks that share a decision). Depth 0 is the identity."""

    def __new__(
        cls,
        factory: Callable[[int], nn.Module] | None = None,
        depths: Sequence[int] = (),
        label: str | None = None,
    ):
        if factory is None:
            return super().__new__(cls)
        if not callable(factory):
            raise ValueError("factory: expected a callable i -> nn.Module")
        depths = list(depths)
        bad = [d for d in depths if isinstance(d, bool) or not isinstance(d, int) or d < 0]
        if not depths or bad:
            raise ValueError(f"depths: expected a non-empty list of ints >= 0, got {depths!r}")
        spec, value = resolve("repeat", label, depths)
        if isinstance(current(), Frozen):
            return nn.Sequential(*[factory(i) for i in range(value)])
        obj = super().__new__(cls)
        nn.Module.__init__(obj)
        obj.spec = spec
        obj.blocks = nn.ModuleList(factory(i) for i in range(max(depths)))
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "_modules" not in self.__dict__:
            super().__init__()

    def forward_chosen(self, depth: int, x: Any) -> Any:
        for block in self.blocks[:depth]:
            x = block(x)
        return x

    def forward(self, x: Any) -> Any:
        ctl = self.controller
        if ctl is None:
            return self.forward_chosen(self.spec.default, x)
        return ctl.run_repeat(self, x)
