"""Data-parallel training under ``torch.distributed`` (launched by ``torchrun``).

Every process holds the whole model and draws the same global batch; the batch is cut into
``shards`` equal, contiguous pieces, spread evenly over the processes (rank r takes shards
``r * k .. r * k + k - 1``, ``k = shards / world_size``). Each shard is one forward with its own
BatchNorm batch statistics, as in ``DistributedDataParallel``; gradients are summed over a
process's shards, summed over processes (``all_reduce``) and divided by ``shards``: every process
then holds the gradient of the global batch's mean loss and takes the same optimizer step.

Every shard's forward starts from the same random state (the global torch RNG, the device's CUDA
RNG and the generators named), so a Gumbel sample or a dropout mask is the same for every shard
whichever process computes it. A run therefore depends on ``shards`` and not on the number of
processes: one process with ``shards=2`` computes what two processes compute (up to the order of
floating-point sums).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.distributed as dist

Tensors = tuple[torch.Tensor, ...]


def init_from_environment(device: str = "cpu", init_method: str | None = None) -> str:
    """Join the process group ``torchrun`` describes (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
    ``MASTER_PORT``): gloo on the CPU, NCCL on CUDA. Returns the device this process computes on
    (``cuda:LOCAL_RANK`` for ``cuda``). Without ``WORLD_SIZE`` > 1 nothing is started.
    ``init_method`` replaces the rendezvous at ``MASTER_ADDR`` (e.g. ``file://PATH``: no
    listening socket at all)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or (dist.is_available() and dist.is_initialized()):
        return device
    if not dist.is_available():
        raise ValueError("WORLD_SIZE: this torch build has no torch.distributed")
    kwargs = {}
    if init_method is not None:
        kwargs = dict(init_method=init_method, rank=int(os.environ["RANK"]), world_size=world)
    if device.startswith("cuda"):
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        dist.init_process_group("nccl", device_id=torch.device("cuda", local), **kwargs)
        return f"cuda:{local}"
    dist.init_process_group("gloo", **kwargs)
    return device


@contextmanager
def process_group(device: str = "cpu", init_method: str | None = None) -> Iterator[str]:
    """:func:`init_from_environment` for the duration of a ``with`` block, which gets the device;
    a process group that existed before is used and left as it was."""
    existed = dist.is_available() and dist.is_initialized()
    device = init_from_environment(device, init_method)
    try:
        yield device
    finally:
        if not existed and dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()


def _local_entry(
    rank: int, world: int, store: str, threads: int | None, fn: Callable, args: Sequence
) -> None:
    os.environ.update(
        {
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_WORLD_SIZE": str(world),
            "MASTER_ADDR": "127.0.0.1",
            "GLOO_SOCKET_IFNAME": "lo",
        }
    )
    if threads is not None:
        torch.set_num_threads(threads)
    with process_group("cpu", init_method=f"file://{store}"):
        fn(rank, *args)


def run_local(
    fn: Callable, *args, world: int = 2, threads: int | None = 1, timeout: float | None = None
) -> None:
    """``fn(rank, *args)`` in ``world`` new CPU processes on this machine, joined in one gloo
    process group, without ``torchrun``: they meet through a file store (no listening socket)
    and gloo connects them over the loopback interface. ``fn`` must be importable (defined at
    module level). A failure in any process raises here; no process outlives the call."""
    import torch.multiprocessing as mp

    folder = tempfile.mkdtemp(prefix="nasfast-store-")
    store = os.path.join(folder, "store")
    ctx = mp.start_processes(
        _local_entry,
        args=(world, store, threads, fn, args),
        nprocs=world,
        join=False,
        start_method="spawn",
    )
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while not ctx.join(timeout=1.0):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"timeout: the {world} processes ran over {timeout} s")
    finally:
        for p in ctx.processes:
            if p.is_alive():
                p.kill()
            p.join()
        shutil.rmtree(folder, ignore_errors=True)


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


class DataParallel:
    """This process's part of a data-parallel step (see the module docstring). ``shards`` None
    means one per process. ``use_process_group=False`` ignores a process group (one process).
    With one process and one shard every method is the plain single-process computation."""

    def __init__(
        self,
        shards: int | None = None,
        *,
        device: torch.device | str = "cpu",
        generators: Sequence[torch.Generator] = (),
        use_process_group: bool = True,
    ):
        self.world_size, self.rank = (world_size(), rank()) if use_process_group else (1, 0)
        if shards is None:
            shards = self.world_size
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise ValueError(f"batch_shards: expected a positive integer, got {shards!r}")
        if shards % self.world_size:
            raise ValueError(
                f"batch_shards: expected a multiple of the {self.world_size} processes, "
                f"got {shards}"
            )
        self.shards = shards
        self.local_shards = self.shards // self.world_size
        self.device = torch.device(device)
        self.generators = list(generators)

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes checkpoints, metrics and reports."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    # -- batches -----------------------------------------------------------------------------
    def local(self, t: torch.Tensor) -> torch.Tensor:
        """This process's contiguous part of a global batch (all of its shards)."""
        n = self._shard_size(t) * self.local_shards
        return t[self.rank * n : (self.rank + 1) * n]

    def _shard_size(self, t: torch.Tensor) -> int:
        if t.shape[0] % self.shards:
            raise ValueError(
                f"batch_size: expected a multiple of batch_shards={self.shards}, got {t.shape[0]}"
            )
        return t.shape[0] // self.shards

    def split(self, *batch: torch.Tensor) -> Iterator[Tensors]:
        """This process's shards of a global batch, one tuple per shard; each is yielded with the
        random state the first one started from (the state after the last shard is kept)."""
        n = self._shard_size(batch[0])
        parts = [torch.split(self.local(t), n) for t in batch]
        start = self._random_state()
        for i in range(self.local_shards):
            if i:
                self._set_random_state(start)
            yield tuple(p[i] for p in parts)

    def _random_state(self) -> list[torch.Tensor]:
        state = [torch.get_rng_state(), *(g.get_state() for g in self.generators)]
        if self.device.type == "cuda":
            state.append(torch.cuda.get_rng_state(self.device))
        return state

    def _set_random_state(self, state: list[torch.Tensor]) -> None:
        torch.set_rng_state(state[0])
        for g, s in zip(self.generators, state[1:], strict=False):
            g.set_state(s)
        if self.device.type == "cuda":
            torch.cuda.set_rng_state(state[-1], self.device)

    # -- reductions --------------------------------------------------------------------------
    def mean_over_shards_(self, tensors: Sequence[torch.Tensor]) -> None:
        """In place: per-process sums over shards -> the mean over all shards of all processes
        (one ``all_reduce`` of the tensors flattened together)."""
        tensors = list(tensors)
        if not tensors or self.shards == 1:
            return
        if self.distributed:
            flat = torch.cat([t.reshape(-1) for t in tensors])
            dist.all_reduce(flat)
            offset = 0
            for t in tensors:
                t.copy_(flat[offset : offset + t.numel()].view_as(t))
                offset += t.numel()
        for t in tensors:
            t.div_(self.shards)

    def average_gradients_(self, params: Sequence[torch.Tensor]) -> None:
        """The ``.grad`` of ``params`` (summed over this process's shards) -> the global mean."""
        grads = [p.grad for p in params if p.grad is not None]
        self.mean_over_shards_(grads)

    def mean_of_processes(self, values: Sequence[float]) -> list[float]:
        """Each value (a mean over this process's shards) -> the mean over all processes."""
        if not self.distributed:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self.device)  # NCCL: on the GPU
        dist.all_reduce(t)
        return (t / self.world_size).tolist()

    def gradient(
        self,
        loss_fn: Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
        batch: Tensors,
        params: Sequence[torch.Tensor],
    ) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """The gradient of the global batch's mean objective with respect to ``params`` (zeros
        where a parameter is unused), this process's mean shard loss and its shards' outputs
        concatenated. ``loss_fn(*shard)`` returns (objective, loss, output)."""
        params = list(params)
        total: list[torch.Tensor] | None = None
        losses, outputs = [], []
        for shard in self.split(*batch):
            objective, loss, out = loss_fn(*shard)
            grads = torch.autograd.grad(objective, params, allow_unused=True)
            grads = [
                torch.zeros_like(p) if g is None else g for g, p in zip(grads, params, strict=True)
            ]
            total = grads if total is None else [a + b for a, b in zip(total, grads, strict=True)]
            losses.append(loss.detach())
            outputs.append(out.detach())
        assert total is not None
        self.mean_over_shards_(total)
        return total, torch.stack(losses).mean(), torch.cat(outputs)

    # -- coordination ------------------------------------------------------------------------
    def broadcast_state_(self, module: torch.nn.Module) -> None:
        """Rank 0's parameters and buffers to every process."""
        if not self.distributed:
            return
        tensors = [t.data for t in (*module.parameters(), *module.buffers())]
        flat = torch.cat([t.reshape(-1).to(torch.float64) for t in tensors])
        dist.broadcast(flat, 0)
        offset = 0
        for t in tensors:
            t.copy_(flat[offset : offset + t.numel()].view(t.shape))
            offset += t.numel()

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()
