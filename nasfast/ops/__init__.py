"""Functional ops: each compiled op beside its pure-PyTorch reference twin."""

from nasfast.ops.mixed_op import mixed_op, mixed_op_reference, mixed_op_weights
from nasfast.ops.row_gather import (
    gather_rows,
    gather_rows_reference,
    gather_sum,
    gather_sum_reference,
    scatter_rows,
    scatter_rows_reference,
)

__all__ = [
    "mixed_op",
    "mixed_op_reference",
    "mixed_op_weights",
    "gather_rows",
    "gather_rows_reference",
    "gather_sum",
    "gather_sum_reference",
    "scatter_rows",
    "scatter_rows_reference",
]
