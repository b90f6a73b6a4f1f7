"""The DARTS architect: updates the architecture parameters on validation batches.

First order (DARTS v1): the gradient of the validation loss at the current weights.
Second order (DARTS v2, Liu et al. 2019, eq. 7-8): the gradient at the weights after one virtual
SGD step ``w' = w - eta * (momentum * buf + grad_w L_train(w, a) + wd * w)``,
``grad_a L_val(w', a) - eta * H v`` where ``v = grad_w' L_val(w', a)`` and the mixed Hessian-vector
product ``H v = grad_a grad_w L_train(w, a) . v`` is taken by central finite differences,
``(grad_a L_train(w + r v) - grad_a L_train(w - r v)) / 2r`` with ``r = 0.01 / ||v||``
(``hvp_eps`` = 0.01; its error is O(r^2): smaller values trade it for rounding error).
The network's weights and buffers are restored exactly after the second-order computation.

Every gradient is the global batch's under data parallelism (``data_parallel``: a
:class:`nasfast.distributed.DataParallel`): summed over this process's shards and all-reduced, so
every process takes the same step and holds the same alphas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from nasfast.distributed import DataParallel

ORDERS = ("first", "second")
LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def classification_loss(
    net: nn.Module, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    logits = net(x)
    return F.cross_entropy(logits, y), logits


class Architect:
    def __init__(
        self,
        net: nn.Module,
        weight_optimizer: torch.optim.SGD,
        *,
        order: str = "second",
        lr: float = 3e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        weight_decay: float = 1e-3,
        arch_penalty: Callable[[], torch.Tensor] | None = None,
        loss_fn: LossFn = classification_loss,
        hvp_eps: float = 0.01,
        data_parallel: DataParallel | None = None,
    ):
        if order not in ORDERS:
            raise ValueError(f"order: expected one of {ORDERS}, got {order!r}")
        self.net, self.w_opt, self.order = net, weight_optimizer, order
        self.arch = list(net.arch_parameters())
        self.weights = list(net.weight_parameters())
        self.optimizer = torch.optim.Adam(self.arch, lr=lr, betas=betas, weight_decay=weight_decay)
        self.arch_penalty = arch_penalty
        self.loss_fn = loss_fn
        self.hvp_eps = hvp_eps
        self.dp = data_parallel or DataParallel(1, use_process_group=False)

    def _val_loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        loss, logits = self.loss_fn(self.net, x, y)
        total = loss if self.arch_penalty is None else loss + self.arch_penalty()
        return total, loss, logits

    def _train_loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        loss, logits = self.loss_fn(self.net, x, y)
        return loss, loss, logits

    def arch_gradient(
        self,
        x_train: torch.Tensor,
        y_train: torch.Tensor,
        x_val: torch.Tensor,
        y_val: torch.Tensor,
        eta: float,
    ) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """(gradient per arch parameter, validation loss, validation logits); under data
        parallelism the loss and logits are this process's shards'."""
        if self.order == "first":
            with self._frozen_weights():
                return self.dp.gradient(self._val_loss, (x_val, y_val), self.arch)
        return self._second_order(x_train, y_train, x_val, y_val, eta)

    def step(
        self,
        x_train: torch.Tensor,
        y_train: torch.Tensor,
        x_val: torch.Tensor,
        y_val: torch.Tensor,
        eta: float,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One Adam step on the architecture; returns (validation loss, validation logits)."""
        grads, loss, logits = self.arch_gradient(x_train, y_train, x_val, y_val, eta)
        self.optimizer.zero_grad(set_to_none=True)
        for a, g in zip(self.arch, grads, strict=True):
            a.grad = g
        self.optimizer.step()
        return loss.detach(), logits.detach()

    @contextmanager
    def _frozen_weights(self) -> Iterator[None]:
        """Passes that need only alpha gradients build their graph with the weights frozen, so
        no op has to compute weight gradients (ops see ``needs_input_grad`` False for them)."""
        flags = [p.requires_grad for p in self.weights]
        for p in self.weights:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p, f in zip(self.weights, flags, strict=True):
                p.requires_grad_(f)

    # -- second order ----------------------------------------------------------------------
    def _virtual_direction(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        group = self.w_opt.param_groups[0]
        momentum, wd = group.get("momentum", 0.0), group.get("weight_decay", 0.0)
        out = []
        for p, g in zip(self.weights, grads, strict=True):
            d = g + wd * p.detach()
            buf = self.w_opt.state.get(p, {}).get("momentum_buffer")
            if momentum and buf is not None:
                d = d + momentum * buf
            out.append(d)
        return out

    def _second_order(self, x_train, y_train, x_val, y_val, eta):
        net = self.net
        saved_w = [p.detach().clone() for p in self.weights]
        saved_b = [b.detach().clone() for b in net.buffers()]
        try:
            g, _, _ = self.dp.gradient(self._train_loss, (x_train, y_train), self.weights)
            direction = self._virtual_direction(g)
            with torch.no_grad():
                for p, w, d in zip(self.weights, saved_w, direction, strict=True):
                    p.copy_(w - eta * d)
            grads, loss, logits = self.dp.gradient(
                self._val_loss, (x_val, y_val), self.arch + self.weights
            )
            dalpha, v = grads[: len(self.arch)], grads[len(self.arch) :]
            hv = self._hessian_vector(v, saved_w, x_train, y_train)
            result = [da - eta * h for da, h in zip(dalpha, hv, strict=True)]
        finally:
            with torch.no_grad():
                for p, w in zip(self.weights, saved_w, strict=True):
                    p.copy_(w)
                for b, s in zip(net.buffers(), saved_b, strict=True):
                    b.copy_(s)
        return result, loss, logits

    def _hessian_vector(self, v, saved_w, x, y) -> list[torch.Tensor]:
        norm = torch.cat([t.reshape(-1) for t in v]).norm()
        r = self.hvp_eps / float(norm) if float(norm) > 0 else 0.0
        if r == 0.0:
            return [torch.zeros_like(a) for a in self.arch]
        sides = []
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for p, w, vi in zip(self.weights, saved_w, v, strict=True):
                    p.copy_(w + sign * r * vi)
            with self._frozen_weights():
                ga, _, _ = self.dp.gradient(self._train_loss, (x, y), self.arch)
            sides.append(ga)
        return [(gp - gm) / (2 * r) for gp, gm in zip(*sides, strict=True)]
