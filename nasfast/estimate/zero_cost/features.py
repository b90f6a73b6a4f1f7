"""Zero-cost scores as a feature matrix, for performance predictors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasfast.estimate.zero_cost.data import proxy_batch
from nasfast.estimate.zero_cost.nb201 import score_nb201
from nasfast.estimate.zero_cost.registry import get_proxy

DEFAULT_FEATURES = ("synflow", "snip", "grad_norm", "fisher", "jacov", "nwot", "params", "flops")


def nb201_features(
    archs: object,
    proxies: Sequence[str] = DEFAULT_FEATURES,
    *,
    batch_or_shape: object = None,
    dataset: str = "mnist-small",
    images: int = 64,
    seed: int = 0,
    **kwargs,
) -> np.ndarray:
    """``[P, len(proxies)]`` float64 scores of the NB201 cells ``archs`` ([P, 6] op codes),
    one column per proxy in order. Without ``batch_or_shape`` the data-dependent proxies score
    ``images`` images of ``dataset`` (:func:`~.data.proxy_batch`, default the MNIST digits
    shipped with nasfast). Non-finite scores stay NaN for the predictor to impute. ``kwargs``
    go to :func:`~.nb201.score_nb201` (``init``, ``backend``, ``C``, ``N``, ...)."""
    names = [get_proxy(p).name for p in proxies]
    if batch_or_shape is None:
        if any(get_proxy(n).needs_data for n in names):
            batch_or_shape = proxy_batch(dataset, n=images, seed=seed)
        else:
            batch_or_shape = (3, 32, 32)
    scores = score_nb201(archs, batch_or_shape, names, seed=seed, allow_nan=True, **kwargs)
    out = np.stack([scores[n] for n in names], axis=1)
    return np.where(np.isfinite(out), out, np.nan)
