"""nn.Modules built on nasfast's fused ops."""

from nasfast.nn.darts_edge import DartsEdge
from nasfast.nn.darts_primitives import PRIMITIVES
from nasfast.nn.mixed_op import MixedOp

__all__ = ["PRIMITIVES", "DartsEdge", "MixedOp"]
