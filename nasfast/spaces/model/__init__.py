"""Model spaces: choices inside any ``nn.Module``, the space they span, freeze and JSON.

from nasfast.spaces.model import InputChoice, LayerChoice, ModelSpace, Repeat, choice

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        width = choice("width", [16, 32])
        self.inp = nn.Linear(8, width)
        self.act = LayerChoice({"relu": nn.ReLU(), "gelu": nn.GELU()}, label="act")
        self.out = nn.Linear(width, 2)

    def forward(self, x):
        return self.out(self.act(self.inp(x)))

space = ModelSpace(Net)
model = space.freeze(space.sample(np.random.default_rng(0)))   # a plain nn.Module
"""

from nasfast.spaces.model.choices import (
    REDUCTIONS,
    ChoiceModule,
    InputChoice,
    LayerChoice,
    Repeat,
    chosen_inputs_module,
)
from nasfast.spaces.model.context import ChoiceSpec, choice
from nasfast.spaces.model.discrete import ModelDiscreteSpace
from nasfast.spaces.model.space import Arch, ModelSpace

__all__ = [
    "REDUCTIONS",
    "Arch",
    "ChoiceModule",
    "ChoiceSpec",
    "InputChoice",
    "LayerChoice",
    "ModelDiscreteSpace",
    "ModelSpace",
    "Repeat",
    "choice",
    "chosen_inputs_module",
]
