"""NB201 supernet: batched candidate evaluation vs the per-candidate loop (eval, no grad)."""

from __future__ import annotations

import torch

from nasfast.bench.registry import bench_case
from nasfast.nn import NB201Supernet
from nasfast.nn.nb201_batched import conv_work, default_chunk


def random_population(P: int, seed: int = 0) -> torch.Tensor:
    """P architectures with uniform op codes (duplicates possible, as in a random sample)."""
    return torch.randint(0, 5, (P, 6), generator=torch.Generator().manual_seed(seed))


def mutated_population(P: int, parents: int = 4, seed: int = 0) -> torch.Tensor:
    """P children of a few random parents, each with one edge set to a different op: the
    population an evolution step scores."""
    g = torch.Generator().manual_seed(seed)
    par = torch.randint(0, 5, (parents, 6), generator=g)
    kids = par[torch.randint(0, parents, (P,), generator=g)].clone()
    edge = torch.randint(0, 6, (P,), generator=g)
    shift = torch.randint(1, 5, (P,), generator=g)
    rows = torch.arange(P)
    kids[rows, edge] = (kids[rows, edge] + shift) % 5
    return kids


def setup_pair(
    archs: torch.Tensor,
    *,
    C: int = 8,
    N: int = 1,
    B: int = 16,
    size: int = 32,
    channels_last_loop: bool = False,
):
    torch.manual_seed(0)
    net = NB201Supernet(C=C, N=N, num_classes=10, in_channels=3).eval()
    x = torch.randn(B, 3, size, size, generator=torch.Generator().manual_seed(1))
    loop_net, loop_x = net, x
    if channels_last_loop:
        loop_net = NB201Supernet(C=C, N=N).eval().to(memory_format=torch.channels_last)
        loop_net.load_state_dict(net.state_dict())
        loop_x = x.contiguous(memory_format=torch.channels_last)

    def fast():
        with torch.no_grad():
            return net.forward_candidates(x, archs)

    def loop():
        with torch.no_grad():
            return torch.stack([loop_net(loop_x, a) for a in archs])

    return fast, loop


def floor(archs: torch.Tensor, C: int = 8, N: int = 1, B: int = 16, size: int = 32) -> str:
    net = NB201Supernet(C=C, N=N)
    x = torch.empty(B, 3, size, size)
    batched, loop = conv_work(net, archs, default_chunk(x, C))
    return (
        f"cell conv work (in C x C 3x3 convs at 32x32 per image): batched {batched}, "
        f"loop {loop} ({loop / max(batched, 1):.2f}x less); stem once vs {len(archs)}x"
    )


ARCHS_64 = random_population(64)


@bench_case(
    "supernet 64 random cands x16 32x32 C=8 N=1 eval",
    group="supernet",
    target=1.5,
    floor=floor(ARCHS_64),
    baseline="per-candidate loop",
    quick=False,
)
def _p64():
    return setup_pair(ARCHS_64)


ARCHS_16 = random_population(16, seed=1)


@bench_case(
    "supernet 16 random cands x16 32x32 C=8 N=1 eval",
    group="supernet",
    floor=floor(ARCHS_16),
    baseline="per-candidate loop",
)
def _p16():
    return setup_pair(ARCHS_16)
