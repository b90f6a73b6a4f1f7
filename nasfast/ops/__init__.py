"""Functional ops: each compiled op beside its pure-PyTorch reference twin."""

from nasfast.ops.mixed_op import mixed_op, mixed_op_reference, mixed_op_weights

__all__ = ["mixed_op", "mixed_op_reference", "mixed_op_weights"]
