"""A model space as a :class:`~nasfast.spaces.DiscreteSpace`: one position per choice, so every
strategy of :mod:`nasfast.search` runs on it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nasfast.spaces.discrete import Candidate, DiscreteSpace

if TYPE_CHECKING:
    from torch import nn

    from nasfast.spaces.model.space import Arch, ModelSpace


class ModelDiscreteSpace(DiscreteSpace):
    """Positions are the choices of ``model_space`` (in order); a candidate holds the index of
    each choice's value. :meth:`arch` and :meth:`candidate` convert both ways."""

    def __init__(self, model_space: ModelSpace) -> None:
        specs = list(model_space.specs.values())
        super().__init__([s.values for s in specs], names=[s.label for s in specs])
        self.model_space = model_space

    def arch(self, c: Sequence[int]) -> Arch:
        return self.model_space.arch_of(self.validate(c))

    def candidate(self, arch: Mapping[str, Any]) -> Candidate:
        return self.model_space.index_of(arch)

    def describe(self, c: Sequence[int]) -> str:
        return self.model_space.to_json(self.arch(c))

    def parse(self, text: str) -> Candidate:
        return self.candidate(self.model_space.from_json(text))

    def key(self, c: Sequence[int]) -> str:
        """Equal for candidates that build the same model (see ``ModelSpace.freeze_and_key``)."""
        return self.model_space.key(self.arch(c))

    def freeze(self, c: Sequence[int]) -> nn.Module:
        return self.model_space.freeze(self.arch(c))

    def to_dict(self, c: Sequence[int]) -> dict[str, Any]:
        return json.loads(self.describe(c))
