"""The registry of zero-cost proxies: name -> :class:`Proxy`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from nasfast.estimate.zero_cost.inputs import Batch

ProxyFn = Callable[[nn.Module, Batch, Callable], float]


@dataclass(frozen=True)
class Proxy:
    """One zero-cost proxy.

    ``fn(model, batch, loss_fn) -> float`` computes the score; ``needs_data``: it reads the
    minibatch's images, ``needs_labels``: also its labels (data-free proxies need only the input
    shape). ``higher_is_better`` is the direction the proxy is meant to rank in.
    """

    name: str
    fn: ProxyFn
    needs_data: bool
    needs_labels: bool
    citation: str
    higher_is_better: bool = True


PROXIES: dict[str, Proxy] = {}


def register_proxy(
    name: str, *, needs_data: bool, needs_labels: bool, citation: str
) -> Callable[[ProxyFn], ProxyFn]:
    """Decorator adding ``fn`` to :data:`PROXIES` under ``name``."""

    def deco(fn: ProxyFn) -> ProxyFn:
        if name in PROXIES:
            raise ValueError(f"name: proxy {name!r} is registered twice")
        PROXIES[name] = Proxy(name, fn, needs_data, needs_labels, citation)
        return fn

    return deco


def get_proxy(name: object) -> Proxy:
    if not isinstance(name, str) or name not in PROXIES:
        raise ValueError(f"proxy: expected one of {', '.join(sorted(PROXIES))}, got {name!r}")
    return PROXIES[name]
