"""Loads the compiled extension nasfast._C, which registers the torch.ops.nasfast ops."""

from __future__ import annotations

import torch  # noqa: F401  (the extension links against torch's libraries)

try:
    from nasfast import _C
except ImportError as exc:  # pragma: no cover - exercised only on a broken install
    raise ImportError(
        "nasfast._C is not built. Install with `pip install --no-build-isolation -e .` "
        "or build in place with `python setup.py build_ext --inplace`."
    ) from exc

__all__ = ["_C"]
