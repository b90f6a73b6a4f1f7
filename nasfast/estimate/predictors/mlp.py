"""An ensemble of small MLPs (the BANANAS predictor), trained together in one batched model."""

from __future__ import annotations

import math

import numpy as np
import torch

from nasfast.estimate.predictors._torch import single_thread, tensor32
from nasfast.estimate.predictors.base import Predictor, check_float, check_int


class _BatchedMLP(torch.nn.Module):
    """``members`` independent MLPs evaluated with batched matmuls: (E, n, d) -> (E, n)."""

    def __init__(self, members: int, sizes: list[int], gen: torch.Generator) -> None:
        super().__init__()
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default initialisation
            w = torch.rand(members, fan_in, fan_out, generator=gen, dtype=torch.float32) * 2 - 1
            b = torch.rand(members, 1, fan_out, generator=gen, dtype=torch.float32) * 2 - 1
            self.weights.append(torch.nn.Parameter(w * bound))
            self.biases.append(torch.nn.Parameter(b * bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = torch.relu(h)
        return h.squeeze(-1)


class MLPEnsemble(Predictor):
    """``members`` MLPs from different initialisations, trained full-batch with Adam; the mean and
    spread of their predictions are the prediction and its uncertainty (White et al., BANANAS,
    AAAI 2021, use 5 members).

    Args:
        members: networks in the ensemble (>= 2 for an uncertainty).
        hidden: width of each hidden layer.
        layers: hidden layers.
        epochs: full-batch Adam steps.
        lr: Adam learning rate.
        weight_decay: L2 penalty (Adam's weight_decay).
    """

    name = "mlp"
    has_std = True
    scale_inputs = True

    def __init__(
        self,
        members: int = 5,
        hidden: int = 32,
        layers: int = 3,
        epochs: int = 300,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
    ) -> None:
        self.members = check_int(members, "members", 2)
        self.hidden = check_int(hidden, "hidden", 1)
        self.layers = check_int(layers, "layers", 1)
        self.epochs = check_int(epochs, "epochs", 1)
        self.lr = check_float(lr, "lr")
        self.weight_decay = check_float(weight_decay, "weight_decay", strict=False)

    def _fit(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        with single_thread():
            self._train(X, y, seed)

    def _train(self, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        sizes = [X.shape[1]] + [self.hidden] * self.layers + [1]
        self.net = _BatchedMLP(self.members, sizes, gen)
        x = tensor32(X).expand(self.members, -1, -1)
        t = tensor32(y).expand(self.members, -1)
        opt = torch.optim.Adam(
            self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay, fused=True
        )
        for _ in range(self.epochs):
            opt.zero_grad(set_to_none=True)
            # summed over members: each member's parameters get their own loss's gradient
            loss = ((self.net(x) - t) ** 2).mean(dim=1).sum()
            loss.backward()
            opt.step()

    def _predict(self, X: np.ndarray, want_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        with torch.no_grad(), single_thread():
            P = self.net(tensor32(X).expand(self.members, -1, -1)).double().numpy()
        return P.mean(0), P.std(0) if want_std else None
