"""A weight-sharing supernet over a model space, for DARTS, GDAS and SPOS.

The model is built once with every candidate (recording mode); each choice module hands its
decision to this supernet's controller:

- ``mode="darts"``: every layer choice outputs ``sum_k softmax(alpha)_k * candidate_k(x)`` through
  nasfast's fused ``mixed_op``; a layer choice whose candidates are exactly the eight DARTS
  primitives runs as one fused :class:`~nasfast.nn.DartsEdge` instead; an input choice mixes its
  inputs, a repeat mixes the outputs after each candidate depth;
- ``mode="gdas"``: a hard Gumbel-softmax sample per label per forward, only the sampled candidate
  computed (GDAS, Dong & Yang, CVPR 2019);
- a fixed architecture (:meth:`ModelSupernet.path`, SPOS and evaluation): only its path runs.

Architecture logits are one vector per label, so a label reused in several places is one
decision (DARTS's cells share their alphas this way).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from nasfast.nn.darts_edge import DartsEdge
from nasfast.nn.darts_primitives import PRIMITIVES, Zero, make_primitive
from nasfast.ops.mixed_op import mixed_op, mixed_op_weights
from nasfast.spaces.model import ChoiceModule, InputChoice, LayerChoice, ModelSpace, Repeat
from nasfast.spaces.model.space import Arch

MODES = ("darts", "gdas")


@functools.lru_cache(maxsize=64)
def _primitive_signature(name: str, C: int, stride: int) -> tuple:
    return _signature(make_primitive(name, C, stride))


def _signature(m: nn.Module) -> tuple:
    """Module types in order, and every parameter/buffer name with its shape."""
    types = tuple(type(x) for x in m.modules())
    return types, tuple((k, tuple(v.shape)) for k, v in m.state_dict().items())


def darts_edge_of(choice: LayerChoice, backend: str) -> DartsEdge | None:
    """A fused DartsEdge running ``choice``'s own candidate modules, when they are exactly the
    eight DARTS search primitives (names, order, structure); None otherwise."""
    if choice.names != list(PRIMITIVES):
        return None
    cands = list(choice.candidates.values())
    zero, sep = cands[0], cands[PRIMITIVES.index("sep_conv_3x3")]
    if not isinstance(zero, Zero) or not isinstance(getattr(sep, "op", None), nn.Sequential):
        return None
    stride, C = zero.stride, sep.op[1].in_channels
    if stride not in (1, 2) or (stride == 2 and C % 2):
        return None
    if not all(
        _signature(m) == _primitive_signature(p, C, stride)
        for m, p in zip(cands, PRIMITIVES, strict=True)
    ):
        return None
    # a DartsEdge over the choice's own modules (one set of weights), without building its own
    edge = DartsEdge.__new__(DartsEdge)
    nn.Module.__init__(edge)
    edge.C, edge.stride, edge.backend = C, stride, backend
    edge.ops = nn.ModuleList(cands)
    return edge


def _path_key(parts: list[str], modules: dict[str, nn.Module], arch: Arch) -> str | None:
    """The key a supernet state-dict entry has in the frozen model of ``arch`` (None: the
    entry belongs to a candidate ``arch`` does not choose)."""
    out: list[str] = []
    i = 0
    while i < len(parts):
        m = modules.get(".".join(parts[:i]))
        if isinstance(m, LayerChoice) and parts[i] == "candidates":
            if not m.shared and parts[i + 1] != m.names[m.index_of(arch[m.label])]:
                return None
            i += 2
            continue
        if isinstance(m, Repeat) and parts[i] == "blocks":
            if int(parts[i + 1]) >= arch[m.label]:
                return None
            i += 1
        out.append(parts[i])
        i += 1
    return ".".join(out)


class ModelSupernet(nn.Module):
    """The supernet of ``space``: ``model`` (every candidate) plus ``alphas`` per label.

    Args:
        space: the model space.
        mode: ``"darts"`` (softmax mixture) or ``"gdas"`` (hard Gumbel sample per forward).
        backend: ``"fused"`` or ``"reference"`` for ``mixed_op`` and DARTS edges.
        fuse_darts_edges: run layer choices over the DARTS primitives as fused DartsEdges.
    """

    def __init__(
        self,
        space: ModelSpace,
        *,
        mode: str = "darts",
        backend: str = "fused",
        fuse_darts_edges: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(space, ModelSpace):
            raise ValueError(f"space: expected a ModelSpace, got {type(space).__name__}")
        if mode not in MODES:
            raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
        if backend not in ("fused", "reference"):
            raise ValueError(f"backend: expected 'fused' or 'reference', got {backend!r}")
        model, _ = space.build()
        choices = [m for m in model.modules() if isinstance(m, ChoiceModule)]
        plain = sorted(space.plain_reads)  # fixed at its default in the one model built
        if plain:
            raise ValueError(
                f"space: {plain[0]!r} is read as a plain value in the model's constructor, which "
                f"a shared-weight supernet cannot switch; build it with LayerChoice.from_values "
                f"or search the space discretely"
            )
        self.space, self.mode, self.backend = space, mode, backend
        self.model = model
        sizes: dict[str, int] = {}
        for m in choices:
            n = m.n_candidates if isinstance(m, InputChoice) else m.spec.size
            sizes.setdefault(m.label, n)
            m.attach(self)
            if fuse_darts_edges and isinstance(m, LayerChoice):
                m.__dict__["_darts_edge"] = darts_edge_of(m, backend)
        self.alphas = nn.ParameterDict(
            {k: nn.Parameter(1e-3 * torch.randn(n)) for k, n in sizes.items()}
        )
        self.n_chosen = {m.label: m.n_chosen for m in choices if isinstance(m, InputChoice)}
        self.tau = 1.0
        self.generator: torch.Generator | None = None
        self._fixed: Arch | None = None
        self._weights: dict[str, torch.Tensor] = {}
        self.last_weights: dict[str, torch.Tensor] = {}

    # -- parameters (the interface nasfast's DARTS Architect uses) --------------------------
    def arch_parameters(self) -> list[nn.Parameter]:
        return list(self.alphas.values())

    def weight_parameters(self) -> list[nn.Parameter]:
        return list(self.model.parameters())

    def fused_edges(self) -> int:
        """How many layer choices run as fused DartsEdges."""
        return sum(
            1
            for m in self.model.modules()
            if isinstance(m, LayerChoice) and m.__dict__.get("_darts_edge") is not None
        )

    # -- architecture ----------------------------------------------------------------------
    @contextmanager
    def path(self, arch: Mapping[str, Any]) -> Iterator[None]:
        """Run only ``arch``'s path inside the block (SPOS training and evaluation)."""
        saved, self._fixed = self._fixed, self.space.validate(arch)
        try:
            yield
        finally:
            self._fixed = saved

    def freeze(self, arch: Mapping[str, Any]) -> nn.Module:
        """The plain model of ``arch`` holding this supernet's weights for its path (weight
        inheritance: evaluate or fine-tune what one-shot found)."""
        arch = self.space.validate(arch)
        model = self.space.freeze(arch)
        modules = dict(self.model.named_modules())
        mine = model.state_dict()
        state = {}
        for key, value in self.model.state_dict().items():
            new = _path_key(key.split("."), modules, arch)
            if new is not None:  # shared weights: the chosen width's leading slice
                state[new] = value[tuple(slice(0, n) for n in mine[new].shape)].clone()
        model.load_state_dict(state)
        return model

    def probabilities(self) -> dict[str, torch.Tensor]:
        return {k: torch.softmax(a.detach(), 0) for k, a in self.alphas.items()}

    def derive(self) -> Arch:
        """The architecture of the strongest candidates: argmax per label, the top-k inputs."""
        arch: Arch = {}
        for label, spec in self.space.specs.items():
            a = self.alphas[label].detach() if label in self.alphas else None
            if a is None:
                arch[label] = spec.default
            elif spec.kind == "input":
                k = self.n_chosen[label]
                arch[label] = tuple(sorted(int(i) for i in a.topk(k).indices))
            else:
                arch[label] = spec.values[int(a.argmax())]
        return arch

    def _weights_of(self, label: str) -> torch.Tensor:
        w = self._weights.get(label)
        if w is None:
            a = self.alphas[label]
            if self.mode == "darts":
                w = torch.softmax(a, 0)
            else:
                w = mixed_op_weights(
                    a, mode="gumbel", tau=self.tau, hard=True, generator=self.generator
                )
            self._weights[label] = w
        return w

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        self._weights = {}  # one weight vector (one Gumbel sample) per label per forward
        try:
            return self.model(*args, **kwargs)
        finally:
            self.last_weights = {k: w.detach() for k, w in self._weights.items()}
            self._weights = {}

    def last_sample(self) -> dict[str, Any]:
        """GDAS: the values the last forward sampled, for the labels on its path."""
        out: dict[str, Any] = {}
        for label, w in self.last_weights.items():
            spec = self.space.specs[label]
            if spec.kind == "input":
                out[label] = tuple(int(i) for i in torch.nonzero(w > 0.5).flatten())
            else:
                out[label] = spec.values[int(w.argmax())]
        return out

    # -- the controller hooks the choice modules call ----------------------------------------
    def run_layer(self, m: LayerChoice, args: tuple, kwargs: dict) -> Any:
        if self._fixed is not None:
            return m.forward_chosen(self._fixed[m.label], *args, **kwargs)
        w = self._weights_of(m.label)
        edge = m.__dict__.get("_darts_edge")
        single = self.mode == "gdas"
        if edge is not None and not kwargs and len(args) == 1:
            # the edge is outside the module tree: it follows its BatchNorms' mode
            edge.training = edge.ops[1][1].training
            return edge(args[0], w.to(args[0].dtype), single_path=single)
        if single:
            j = int(w.argmax())
            return w[j] * m.forward_index(j, *args, **kwargs) + (w.sum() - w[j])
        outs = [m.forward_index(j, *args, **kwargs) for j in range(m.spec.size)]
        return mixed_op(outs, w.to(outs[0].dtype), mode="weights", backend=self.backend)

    def run_input(self, m: InputChoice, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        if self._fixed is not None:
            return m.forward_chosen(self._fixed[m.label], inputs)
        if m.reduction == "concat":
            raise ValueError(
                f"reduction: input choice {m.label!r} concatenates its inputs, which a one-shot "
                f"mixture cannot weigh; use sum or mean, or a fixed path"
            )
        a = self.alphas[m.label]
        if self.mode == "gdas":
            return self._sampled_inputs(m, a, inputs)
        w = torch.softmax(a, 0).to(inputs[0].dtype)
        out = mixed_op(list(inputs), w, mode="weights", backend=self.backend)
        return out * m.n_chosen if m.reduction == "sum" else out

    def _sampled_inputs(
        self, m: InputChoice, a: torch.Tensor, inputs: Sequence[torch.Tensor]
    ) -> torch.Tensor:
        w = self._weights.get(m.label)
        if w is None:
            noise = -torch.empty_like(a).exponential_(generator=self.generator).log()
            soft = torch.softmax((a + noise) / self.tau, 0)
            hard = torch.zeros_like(soft).scatter_(0, soft.topk(m.n_chosen).indices, 1.0)
            w = self._weights[m.label] = hard + (soft - soft.detach())
        chosen = [int(i) for i in torch.nonzero(w.detach() > 0.5).flatten()]
        items = [w[i] * inputs[i] for i in chosen]
        out = items[0]
        for t in items[1:]:
            out = out + t
        return out / len(items) if m.reduction == "mean" else out

    def run_repeat(self, m: Repeat, x: Any) -> Any:
        if self._fixed is not None:
            return m.forward_chosen(self._fixed[m.label], x)
        w = self._weights_of(m.label)
        depths = list(m.spec.values)
        if self.mode == "gdas":
            j = int(w.argmax())
            return w[j] * m.forward_chosen(depths[j], x) + (w.sum() - w[j])
        outs, h, done = {}, x, 0
        for d in sorted(depths):
            for block in m.blocks[done:d]:
                h = block(h)
            done, outs[d] = d, h
        return mixed_op(
            [outs[d] for d in depths], w.to(x.dtype), mode="weights", backend=self.backend
        )
