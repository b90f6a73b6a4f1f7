"""Zero-cost proxies of 64 NB201 candidates: one batched pass vs the per-candidate loop.

Both score the same candidates with the same weights (the supernet's, copied into one plain
network per candidate for the loop; the copies are made before timing). The loop is the
reference twin: :func:`nasfast.estimate.zero_cost.score` per candidate and proxy.
"""

from __future__ import annotations

import torch

from nasfast.bench.cases.supernet import random_population
from nasfast.bench.registry import bench_case
from nasfast.estimate.zero_cost import score
from nasfast.estimate.zero_cost.nb201_copy import network_from_supernet
from nasfast.estimate.zero_cost.nb201_saliency import saliency_candidates
from nasfast.estimate.zero_cost.nb201_synflow import synflow_candidates
from nasfast.nn import NB201Supernet

P = 64
SALIENCY = ("snip", "grad_norm", "plain", "fisher")


def supernet_and_networks(archs: torch.Tensor, C: int, N: int, dtype=torch.float32):
    torch.manual_seed(0)
    net = NB201Supernet(C=C, N=N).to(dtype)
    return net, [network_from_supernet(net, a) for a in archs.tolist()]


def minibatch(B: int, size: int = 32, dtype=torch.float32):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(B, 3, size, size, generator=g).to(dtype)
    return x, torch.randint(0, 10, (B,), generator=g)


def synflow_pair(archs: torch.Tensor, C: int, N: int, dtype: torch.dtype = torch.float32):
    """The batched pass runs in the supernet's dtype; the loop in float64 (synflow's own)."""
    net, plains = supernet_and_networks(archs, C, N, dtype)
    shape = (3, 32, 32)

    def batched():
        return synflow_candidates(net, archs, shape)

    def loop():
        return [score(p, shape, "synflow") for p in plains]

    return batched, loop


def saliency_pair(archs: torch.Tensor, C: int, N: int, B: int, proxies: tuple[str, ...]):
    net, plains = supernet_and_networks(archs, C, N)
    x, y = minibatch(B)

    def batched():
        return saliency_candidates(net, archs, x, y)

    def loop():
        return [[score(p, (x, y), name) for name in proxies] for p in plains]

    return batched, loop


ARCHS = random_population(P, seed=2)
FLOOR = "FLOPs of both sides counted in benchmarks/results/zero_cost.md"


@bench_case(
    "zero-cost synflow 64 cands C=16 N=5 32x32",
    group="zero-cost",
    target=3.0,
    floor=FLOOR,
    baseline="per-candidate loop (float64)",
    quick=False,
)
def _synflow_full():
    return synflow_pair(ARCHS, 16, 5)


@bench_case(
    "zero-cost synflow 64 cands C=16 N=5 32x32 pass f64",
    group="zero-cost",
    floor=FLOOR,
    baseline="per-candidate loop (float64)",
    quick=False,
)
def _synflow_full_f64():
    return synflow_pair(ARCHS, 16, 5, torch.float64)


@bench_case(
    "zero-cost synflow 64 cands C=8 N=1 32x32",
    group="zero-cost",
    target=3.0,
    floor=FLOOR,
    baseline="per-candidate loop (float64)",
)
def _synflow_small():
    return synflow_pair(ARCHS, 8, 1)


@bench_case(
    "zero-cost snip 64 cands C=8 N=1 x8 32x32",
    group="zero-cost",
    target=3.0,
    floor=FLOOR,
    baseline="per-candidate loop",
    quick=False,
)
def _snip():
    return saliency_pair(ARCHS, 8, 1, 8, ("snip",))


@bench_case(
    "zero-cost snip+grad_norm+plain+fisher 64 cands C=8 N=1 x8 32x32",
    group="zero-cost",
    target=3.0,
    floor=FLOOR,
    baseline="per-candidate loop",
    quick=False,
)
def _saliency4():
    return saliency_pair(ARCHS, 8, 1, 8, SALIENCY)
