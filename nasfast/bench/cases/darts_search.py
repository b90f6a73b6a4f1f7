"""One DARTS search step (architect step + weight step), fused vs reference DartsEdge backend.

Both sides run the same ``DartsSearch`` on the shipped MNIST subset with the same seed and
settings; only ``--backend`` differs. Each call is one full step of the search loop.
"""

from __future__ import annotations

import tempfile

from nasfast.bench.registry import bench_case

C, LAYERS, BATCH = 8, 5, 32


def _search(backend: str, order: str, sampler: str = "softmax"):
    from nasfast.darts.search import DartsSearch, SearchConfig
    from nasfast.datasets import load_images

    cfg = SearchConfig(
        channels=C,
        layers=LAYERS,
        batch_size=BATCH,
        epochs=50,
        order=order,
        backend=backend,
        sampler=sampler,
    )
    s = DartsSearch(
        cfg, load_images("mnist-small"), tempfile.mkdtemp(prefix="nasfast-bench-"), progress=False
    )
    s._enter_stage(0)
    return s


def _stepper(s):
    def step():
        s._one_step(s.locate(s.step))
        s.step = (s.step + 1) % s.total_steps

    return step


def _floor(order: str) -> str:
    import torch

    from nasfast.darts.costs import edge_costs

    s = _search("reference", order)
    with torch.no_grad():
        mflop = float(edge_costs(s.net, "flops").sum())  # all 8 ops of every edge, per image
    passes = 2 if order == "first" else 5  # forward+backward passes of the supernet per step
    total = mflop * BATCH * 3 * passes / 1e3
    return (
        f"{total:.1f} GFLOP of edge convs/pools per step ({passes} fwd+bwd passes, batch {BATCH},"
        f" {mflop:.1f} MFLOP per image per forward)"
    )


def _pair(order: str, sampler: str = "softmax"):
    return _stepper(_search("fused", order, sampler)), _stepper(
        _search("reference", order, sampler)
    )


@bench_case(
    f"darts search step 1st order C={C} L={LAYERS} b={BATCH} 1x28x28",
    group="darts_search",
    target=3.0,
    # the value _floor("first") computes (kept literal: importing cases must stay cheap)
    floor="9.3 GFLOP of edge convs/pools per step (2 fwd+bwd passes, batch 32, 48.2 MFLOP per "
    "image per forward)",
)
def _first():
    return _pair("first")


@bench_case(
    f"darts search step 2nd order C={C} L={LAYERS} b={BATCH} 1x28x28",
    group="darts_search",
    quick=False,
    target=3.0,
    floor="23.1 GFLOP of edge convs/pools per step (5 fwd+bwd passes, batch 32, 48.2 MFLOP per "
    "image per forward)",
)
def _second():
    return _pair("second")


@bench_case(
    f"darts search step GDAS C={C} L={LAYERS} b={BATCH} 1x28x28",
    group="darts_search",
    quick=False,
)
def _gdas():
    return _pair("first", "gumbel")
