"""Starting points by grid search over a family's nonlinear parameters (variable projection).

Many families are linear in two of their parameters once the others are fixed, e.g.
``pow3 = c - a * x^(-alpha)`` is ``c * 1 + a * h(x)`` with ``h = -x^(-alpha)``. For every point
of a small grid over the nonlinear parameters the linear ones come from a closed-form least
squares fit; the best grid point starts ``least_squares``, which then needs few iterations and
does not get stuck in a far local minimum.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def best_linear(y: Array, H: Array) -> tuple[int, Array]:
    """For each row ``h`` of ``H`` (grid, n) fit ``y ~ p0 + p1 * h``; (best row, its (p0, p1))."""
    n = y.shape[0]
    hm = H.mean(1, keepdims=True)
    ym = y.mean()
    dh = H - hm
    var = (dh * dh).sum(1)
    p1 = np.where(var > 1e-300, (dh * (y - ym)).sum(1) / np.maximum(var, 1e-300), 0.0)
    p0 = ym - p1 * hm[:, 0]
    sse = ((p0[:, None] + p1[:, None] * H - y) ** 2).sum(1)
    sse = np.where(np.isfinite(sse), sse, np.inf)
    i = int(np.argmin(sse)) if n else 0
    return i, np.array([p0[i], p1[i]])


def grid_search(
    x: Array, y: Array, basis: Callable[[Array, Array, Array], Array], g1: Array, g2: Array
) -> tuple[float, float, float, float]:
    """Grid over two nonlinear parameters ``(u, v)``; ``basis(x, u, v)`` gives ``h`` (grid, n).
    Returns (p0, p1, u, v) of the best fit ``y ~ p0 + p1 * h``."""
    U, V = np.meshgrid(g1, g2, indexing="ij")
    u, v = U.ravel(), V.ravel()
    with np.errstate(all="ignore"):
        H = basis(x[None, :], u[:, None], v[:, None])
    i, (p0, p1) = best_linear(y, H)
    return float(p0), float(p1), float(u[i]), float(v[i])


ALPHAS = np.geomspace(0.02, 4.0, 40)
KAPPAS = np.geomspace(1e-4, 10.0, 24)
DELTAS = np.geomspace(0.1, 4.0, 14)


def pow3_start(x: Array, y: Array) -> list[float]:
    c, a, alpha, _ = grid_search(x, y, lambda x, u, v: -(x**-u), ALPHAS, np.array([0.0]))
    return [c, a, alpha]


def saturating_start(kind: str, x: Array, y: Array) -> list[float]:
    """(alpha, beta, kappa, delta) of mmf4 / wbl4 / janoschek: ``y = alpha + (beta - alpha) *
    e(x)`` with ``e`` fixed by (kappa, delta), i.e. linear in (alpha, beta - alpha)."""
    if kind == "mmf4":

        def e(x, k, d):
            return 1.0 / (1.0 + (k * x) ** d)
    elif kind == "wbl4":

        def e(x, k, d):
            return np.exp(-((k * x) ** d))
    else:

        def e(x, k, d):
            return np.exp(-k * x**d)

    alpha, diff, k, d = grid_search(x, y, e, KAPPAS, DELTAS)
    return [alpha, alpha + diff, k, d]


def exp4_start(x: Array, y: Array) -> list[float]:
    """``c - exp(b) * exp(-a x^alpha)``: linear in (c, -exp(b)) for fixed (a, alpha)."""
    c, slope, a, alpha = grid_search(x, y, lambda x, u, v: np.exp(-u * x**v), KAPPAS, DELTAS)
    return [c, a, float(np.log(max(-slope, 1e-12))), alpha]


def pow4_start(x: Array, y: Array) -> list[float]:
    """``c - a * (x + d)^(-alpha)``: linear in (c, a) for fixed (d, alpha)."""
    d_grid = np.array([-0.9, -0.5, 0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0])
    c, a, d, alpha = grid_search(x, y, lambda x, u, v: -((x + u) ** -v), d_grid, ALPHAS[::2])
    return [c, a, d, alpha]
