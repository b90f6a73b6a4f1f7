"""nn.Modules built on nasfast's fused ops."""

from nasfast.nn.darts_edge import DartsEdge
from nasfast.nn.darts_primitives import PRIMITIVES
from nasfast.nn.mixed_op import MixedOp
from nasfast.nn.nb201_supernet import NB201Supernet

__all__ = ["PRIMITIVES", "DartsEdge", "MixedOp", "NB201Supernet"]
