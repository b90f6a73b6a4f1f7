"""A small graph convolutional network on the operation graph (Wen et al., "Neural Predictor for
Neural Architecture Search", ECCV 2020): propagation along and against the edges, mean pooling,
and a linear head that also sees any extra features (a low-fidelity metric, proxy scores)."""

from __future__ import annotations

import numpy as np
import torch

from nasfast.estimate.predictors._torch import single_thread, tensor32
from nasfast.estimate.predictors.base import Predictor, check_float, check_int


def normalized_adjacency(A: torch.Tensor) -> torch.Tensor:
    """Row-normalised ``A + I`` (each node averages itself and its neighbours)."""
    eye = torch.eye(A.shape[-1], dtype=A.dtype).expand_as(A)
    A = A + eye
    return A / A.sum(-1, keepdim=True)


class _GCN(torch.nn.Module):
    def __init__(self, n_types: int, n_extra: int, hidden: int, layers: int) -> None:
        super().__init__()
        dims = [n_types] + [hidden] * layers
        self.forward_w = torch.nn.ModuleList(
            torch.nn.Linear(a, b, dtype=torch.float32) for a, b in zip(dims[:-1], dims[1:])
        )
        self.backward_w = torch.nn.ModuleList(
            torch.nn.Linear(a, b, dtype=torch.float32) for a, b in zip(dims[:-1], dims[1:])
        )
        self.head = torch.nn.Sequential(
            torch.nn.Linear(hidden + n_extra, hidden, dtype=torch.float32),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, 1, dtype=torch.float32),
        )

    def forward(self, A: torch.Tensor, H: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        fwd, bwd = normalized_adjacency(A.transpose(1, 2)), normalized_adjacency(A)
        for wf, wb in zip(self.forward_w, self.backward_w, strict=True):
            H = torch.relu(0.5 * (fwd @ wf(H) + bwd @ wb(H)))
        return self.head(torch.cat([H.mean(1), extra], dim=1)).squeeze(-1)


class GCNPredictor(Predictor):
    """GCN on encoded graphs: rows are ``[adjacency (N*N) | node types (N*T) | extras]`` as
    :class:`~nasfast.estimate.predictors.nb201_encodings.NB201Graph` writes them (extras, such as
    a low-fidelity metric, are standardised and joined before the head).

    Args:
        n_nodes, n_types: the graph's shape (``NB201Graph.graph_shape``).
        hidden, layers: width and depth of the graph convolutions.
        epochs, lr, weight_decay: full-batch Adam training.
    """

    name = "gcn"

    def __init__(
        self,
        n_nodes: int,
        n_types: int,
        hidden: int = 32,
        layers: int = 3,
        epochs: int = 300,
        lr: float = 0.005,
        weight_decay: float = 1e-4,
    ) -> None:
        self.n_nodes = check_int(n_nodes, "n_nodes", 1)
        self.n_types = check_int(n_types, "n_types", 1)
        self.hidden = check_int(hidden, "hidden", 1)
        self.layers = check_int(layers, "layers", 1)
        self.epochs = check_int(epochs, "epochs", 1)
        self.lr = check_float(lr, "lr")
        self.weight_decay = check_float(weight_decay, "weight_decay", strict=False)

    def _split(self, X: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n, t = self.n_nodes, self.n_types
        graph = n * n + n * t
        if X.shape[1] < graph:
            raise ValueError(
                f"X: a GCN on {n} nodes x {t} types needs >= {graph} features, got {X.shape[1]}"
            )
        T = tensor32(X)
        A = T[:, : n * n].reshape(-1, n, n)
        H = T[:, n * n : graph].reshape(-1, n, t)
        extra = (T[:, graph:] - self._e_mean) / self._e_scale
        return A, H, extra

    def _fit(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        with single_thread():
            self._train(X, y, seed)

    def _train(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        graph = self.n_nodes * (self.n_nodes + self.n_types)
        extra = tensor32(X[:, min(graph, X.shape[1]) :])
        self._e_mean = extra.mean(0)
        sd = extra.std(0, unbiased=False) if extra.shape[1] else extra.sum(0)
        self._e_scale = torch.where(sd > 1e-12, sd, torch.ones_like(sd))
        A, H, E = self._split(X)
        with torch.random.fork_rng(devices=[]):  # seeded initialisation, global RNG untouched
            torch.manual_seed(seed)
            self.net = _GCN(self.n_types, E.shape[1], self.hidden, self.layers)
        t = tensor32(y)
        opt = torch.optim.Adam(
            self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay, fused=True
        )
        for _ in range(self.epochs):
            opt.zero_grad(set_to_none=True)
            loss = ((self.net(A, H, E) - t) ** 2).mean()
            loss.backward()
            opt.step()

    def _predict(self, X: np.ndarray, want_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        with torch.no_grad(), single_thread():
            return self.net(*self._split(X)).double().numpy(), None
