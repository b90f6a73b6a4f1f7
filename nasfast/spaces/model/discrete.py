"""A model space as a :class:`~nasfast.spaces.DiscreteSpace`: one position per choice, so every
strategy of :mod:`nasfast.search` runs on it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from nasfast.spaces.discrete import Candidate, DiscreteSpace
from nasfast.spaces.model.context import Arch, ChoiceSpec

if TYPE_CHECKING:
    from torch import nn


class ModelSpaceLike(Protocol):
    """What the discrete view needs of a :class:`~nasfast.spaces.model.ModelSpace` (declared here
    so that this module does not import the space module that builds it)."""

    specs: Mapping[str, ChoiceSpec]

    def arch_of(self, indices: Sequence[int]) -> Arch: ...
    def index_of(self, arch: Mapping[str, Any]) -> Candidate: ...
    def to_json(self, arch: Mapping[str, Any]) -> str: ...
    def from_json(self, text: str) -> Arch: ...
    def key(self, arch: Mapping[str, Any]) -> Any: ...
    def freeze(self, arch: Mapping[str, Any]) -> nn.Module: ...


class ModelDiscreteSpace(DiscreteSpace):
    """Positions are the choices of ``model_space`` (in order); a candidate holds the index of
    each choice's value. :meth:`arch` and :meth:`candidate` convert both ways."""

    def __init__(self, model_space: ModelSpaceLike) -> None:
        specs = list(model_space.specs.values())
        super().__init__(
            [s.values for s in specs], names=[s.label for s in specs], candidates_as="indices"
        )
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

    def canonical(self, c: Sequence[int]) -> str:
        return self.key(c)

    def freeze(self, c: Sequence[int]) -> nn.Module:
        return self.model_space.freeze(self.arch(c))

    def to_dict(self, c: Sequence[int]) -> dict[str, Any]:
        return json.loads(self.describe(c))
