"""Zero-cost scores of NAS-Bench-201 cells given by architecture (op codes), a population at once.

Two definitions of "the network of a cell at initialisation", chosen by ``init``:

- ``"supernet"``: every candidate is the NB201 weight-sharing supernet restricted to its ops
  (:class:`~nasfast.nn.nb201_supernet.NB201Supernet`, built under ``seed`` unless given), so
  candidates share their initial weights. With ``backend="batched"`` synflow, snip, grad_norm,
  plain and fisher of the whole population come from shared passes
  (:mod:`.nb201_synflow`, :mod:`.nb201_saliency`); ``backend="loop"`` is their reference twin,
  one standalone :class:`~nasfast.nn.nb201_network.NB201Network` per candidate holding copies of
  exactly those weights, scored by :func:`~nasfast.estimate.zero_cost.score`. Both give the same
  scores.
- ``"independent"``: each candidate is its own network with PyTorch's default initialisation
  drawn under a seed fixed by ``seed`` and the architecture (the zero-cost protocol of
  Abdelfattah et al. 2021 and NAS-Bench-Suite-Zero); always scored in a loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from nasfast.estimate.zero_cost.api import check_batch_for, check_seed, score
from nasfast.estimate.zero_cost.candidate_layers import BATCHED
from nasfast.estimate.zero_cost.inputs import Batch, as_batch
from nasfast.estimate.zero_cost.nb201_copy import network_from_supernet
from nasfast.estimate.zero_cost.nb201_saliency import saliency_candidates
from nasfast.estimate.zero_cost.nb201_synflow import synflow_candidates
from nasfast.estimate.zero_cost.registry import get_proxy
from nasfast.nn.nb201_network import NB201Network
from nasfast.nn.nb201_supernet import NB201Supernet, check_archs

INITS = ("supernet", "independent")
BACKENDS = ("batched", "loop")


def arch_seed(seed: int, arch: Sequence[int]) -> int:
    """The seed of one architecture's independent initialisation."""
    code = 0
    for v in arch:
        code = code * 5 + int(v)
    return seed * 5**6 + code


def independent_network(arch: Sequence[int], seed: int, **kwargs) -> NB201Network:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(arch_seed(seed, arch))
        return NB201Network(arch, **kwargs)


def _names(proxies: str | Sequence[str]) -> list[str]:
    names = [proxies] if isinstance(proxies, str) else list(proxies)
    if not names:
        raise ValueError("proxies: expected at least one proxy name")
    return [get_proxy(n).name for n in names]


def _check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value  # type: ignore[return-value]


def _batched(
    net: NB201Supernet, archs: torch.Tensor, batch: Batch, names: list[str], loss_fn: Callable,
    chunk: int | None,
) -> dict[str, np.ndarray]:  # fmt: skip
    out: dict[str, np.ndarray] = {}
    if "synflow" in names:
        out["synflow"] = synflow_candidates(net, archs, batch.shape, chunk=chunk or 256).numpy()
    wanted = [n for n in names if n in BATCHED]
    if wanted:
        x = batch.x.to(net.stem_conv.weight)
        y = batch.y.to(x.device)
        sal = saliency_candidates(net, archs, x, y, loss_fn=loss_fn, chunk=chunk or 64)
        out.update({n: sal[n].double().numpy() for n in wanted})
    return out


def score_nb201(
    archs: object,
    batch_or_shape: object,
    proxies: str | Sequence[str],
    *,
    init: str = "supernet",
    backend: str = "batched",
    supernet: NB201Supernet | None = None,
    C: int = 16,
    N: int = 5,
    num_classes: int = 10,
    seed: int = 0,
    chunk: int | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    allow_nan: bool = False,
) -> dict[str, np.ndarray]:
    """``{proxy: float64 [P] scores}`` of the NB201 cells ``archs`` ([P, 6] op codes).

    ``batch_or_shape`` as for :func:`~nasfast.estimate.zero_cost.score` (images ``[B, C, H, W]``).
    ``supernet`` (``init="supernet"`` only) supplies the shared weights; otherwise an
    ``NB201Supernet(C, N, num_classes)`` is built under ``seed``. ``chunk``: candidates per
    batched pass. A non-finite score raises ``ValueError`` unless ``allow_nan``.
    """
    a = check_archs(archs, "archs")
    names = _names(proxies)
    _check_choice(init, "init", INITS)
    _check_choice(backend, "backend", BACKENDS)
    seed = check_seed(seed) or 0
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
        raise ValueError(f"chunk: expected an int >= 1, got {chunk!r}")
    batch = as_batch(batch_or_shape)
    for n in names:
        check_batch_for(get_proxy(n), batch)
    if init == "independent" and (backend == "batched" or supernet is not None):
        raise ValueError(
            "init: 'independent' gives every cell its own weights, so it runs with "
            "backend='loop' and no supernet"
        )
    loss = F.cross_entropy if loss_fn is None else loss_fn
    if init == "supernet" and supernet is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            supernet = NB201Supernet(C, N, num_classes, in_channels=batch.shape[0])
    if supernet is not None and not isinstance(supernet, NB201Supernet):
        raise ValueError(f"supernet: expected an NB201Supernet, got {type(supernet).__name__}")
    want = supernet.in_channels if supernet is not None else batch.shape[0]
    if len(batch.shape) != 3 or batch.shape[0] != want:
        raise ValueError(
            f"batch: expected images of shape ({want}, H, W) (the supernet's in_channels), "
            f"got {batch.shape}"
        )
    out = _batched(supernet, a, batch, names, loss, chunk) if backend == "batched" else {}
    rest = [n for n in names if n not in out]
    if rest:
        scores: dict[str, list[float]] = {n: [] for n in rest}
        for arch in a.tolist():
            if supernet is not None:
                net = network_from_supernet(supernet, arch)
            else:
                net = independent_network(arch, seed, C=C, N=N, num_classes=num_classes,
                                          in_channels=batch.shape[0])  # fmt: skip
            for n in rest:
                scores[n].append(
                    score(net, batch_or_shape, n, loss_fn=loss, seed=seed, allow_nan=True)
                )
        out.update({n: np.asarray(v, dtype=np.float64) for n, v in scores.items()})
    if not allow_nan:
        for n in names:
            bad = np.nonzero(~np.isfinite(out[n]))[0]
            if len(bad):
                raise ValueError(
                    f"score: {n} is {out[n][bad[0]]} for archs[{bad[0]}] (pass allow_nan=True "
                    "to keep non-finite scores)"
                )
    return {n: out[n] for n in names}
