"""Zero-cost proxies: score an untrained network from one minibatch (or its input shape).

The 13 proxies of NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 Datasets and
Benchmarks) by name in :data:`PROXIES`; :func:`score` scores any ``nn.Module``.
"""

from nasfast.estimate.zero_cost import (  # noqa: F401  (each module registers its proxies)
    fisher,
    jacobian,
    nwot,
    saliency,
    static,
    synflow,
    zen,
)
from nasfast.estimate.zero_cost.api import score, score_models
from nasfast.estimate.zero_cost.inputs import Batch, as_batch
from nasfast.estimate.zero_cost.registry import PROXIES, Proxy, get_proxy

__all__ = ["PROXIES", "Batch", "Proxy", "as_batch", "get_proxy", "score", "score_models"]
