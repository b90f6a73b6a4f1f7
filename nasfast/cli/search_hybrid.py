"""``nasfast search hybrid``: evolution (REA or NSGA-II) over a trained NB201 supernet.

Trains the supernet (uniform single-path, several paths per step, batched), optionally learns
DARTS alphas on it to seed the first population, then searches with every generation scored in
one batched supernet pass. Writes results.json (and front.json with several objectives),
convergence.png / front.png, and the supernet checkpoint (resumed when present) under --out.
"""

from __future__ import annotations

import argparse
import gzip
import os
import struct
import time
from pathlib import Path
from typing import Any

import numpy as np

from nasfast.cli.common import freeze_gc


def register(strategies: argparse._SubParsersAction) -> None:
    p = strategies.add_parser(
        "hybrid", help="regularized evolution / NSGA-II over a trained NB201 supernet"
    )
    p.add_argument(
        "--data",
        default=None,
        help="images: a name or path nasfast.datasets knows (default its shipped set), or an "
        "idx(.gz) directory such as Fashion-MNIST's",
    )
    p.add_argument("--algo", default="rea", help="rea (default) or nsga2")
    p.add_argument(
        "--objectives",
        default="accuracy",
        help="accuracy[,params|flops|latency:DEVICE] (costs from the NB201 table)",
    )
    p.add_argument("--cost-dataset", default="cifar10", help="table costs for this data set")
    p.add_argument("--budget", type=int, default=200, help="architectures scored (default 200)")
    p.add_argument("--generation", type=int, default=32, help="candidates scored per batch")
    p.add_argument("--population", type=int, default=None, help="population size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--C", type=int, default=8, help="supernet channels (default 8)")
    p.add_argument("--N", type=int, default=1, help="cells per stage (default 1)")
    p.add_argument("--steps", type=int, default=300, help="supernet training steps")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--paths", type=int, default=4, help="paths sampled per training step")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--train-images", type=int, default=None, help="use this many train images")
    p.add_argument("--val-images", type=int, default=1000, help="held-out images for accuracy")
    p.add_argument("--bn", default="batch", help="batch (recalibrate per candidate) or running")
    p.add_argument("--darts-steps", type=int, default=0, help="seed from DARTS alphas (0: off)")
    p.add_argument("--out", default="runs/hybrid", help="output folder")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--progress", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


# ----------------------------------------------------------------------------- data


def _read_idx(path: str) -> np.ndarray:
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise ValueError(f"--data: {path} is not an unsigned-byte idx file")
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _read_idx_dir(root: str) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(os.listdir(root))
    img = [f for f in files if f.startswith("train-images")]
    lab = [f for f in files if f.startswith("train-labels")]
    if not img or not lab:
        raise ValueError(f"--data: no train-images/train-labels idx files in {root}")
    x = _read_idx(os.path.join(root, img[0]))
    y = _read_idx(os.path.join(root, lab[0]))
    if x.ndim == 3:
        x = x[:, None]
    if len(x) != len(y):
        raise ValueError(f"--data: {len(x)} images but {len(y)} labels in {root}")
    return x, y


def load_train_images(spec: str | None):
    """Normalised float ``[N, C, H, W]`` train images and labels, and the class count.

    Uses ``nasfast.datasets`` (names, the shipped default, idx / CIFAR-10 / npz paths) when this
    build has it; otherwise reads an idx(.gz) directory itself."""
    import torch

    try:
        from nasfast.datasets import load_images  # shipped default and readers (DARTS issue)
    except ImportError:
        load_images = None
    if load_images is not None:
        d = load_images(spec) if spec else load_images()
        return d.x_train, d.y_train.long(), int(d.num_classes)
    if spec is None:
        raise ValueError("--data: give an idx(.gz) directory (e.g. Fashion-MNIST's)")
    if not os.path.isdir(spec):
        raise ValueError(f"--data: expected an idx(.gz) directory, got {spec!r}")
    x, y = _read_idx_dir(spec)
    xt = torch.from_numpy(x.astype(np.float32) / 255.0)
    mean = xt.mean(dim=(0, 2, 3), keepdim=True)
    std = xt.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-3)
    return (xt - mean) / std, torch.from_numpy(y.astype(np.int64)), int(y.max()) + 1


# ----------------------------------------------------------------------------- run


def _check(args: argparse.Namespace) -> list[str]:
    for name in ("budget", "generation", "C", "N", "steps", "batch_size", "paths", "val_images"):
        v = getattr(args, name)
        if v < 1:
            raise ValueError(f"--{name.replace('_', '-')}: expected a positive integer, got {v}")
    if args.darts_steps < 0:
        raise ValueError(f"--darts-steps: expected >= 0, got {args.darts_steps}")
    if args.algo not in ("rea", "nsga2"):
        raise ValueError(f"--algo: expected rea or nsga2, got {args.algo!r}")
    if args.bn not in ("batch", "running"):
        raise ValueError(f"--bn: expected batch or running, got {args.bn!r}")
    objectives = [o.strip() for o in args.objectives.split(",") if o.strip()]
    if not objectives or objectives[0] != "accuracy":
        raise ValueError(f"--objectives: expected accuracy first, got {args.objectives!r}")
    return objectives


def run(args: argparse.Namespace) -> int:
    import torch

    from nasfast.nn import NB201Supernet
    from nasfast.search import hybrid

    objectives = _check(args)
    out = Path(args.out)
    x, y, num_classes = load_train_images(args.data)
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(args.seed))
    if args.val_images >= x.shape[0]:
        raise ValueError(f"--val-images: expected fewer than the {x.shape[0]} train images")
    val, train = perm[: args.val_images], perm[args.val_images :]
    if args.train_images is not None:
        train = train[: args.train_images]
    torch.manual_seed(args.seed)
    net = NB201Supernet(C=args.C, N=args.N, num_classes=num_classes, in_channels=x.shape[1])
    freeze_gc()
    t0 = time.perf_counter()
    losses = hybrid.train_supernet(
        net,
        x[train],
        y[train],
        steps=args.steps,
        batch_size=args.batch_size,
        paths=args.paths,
        lr=args.lr,
        seed=args.seed,
        checkpoint=str(out / "supernet.pt"),
        progress=args.progress,
    )
    train_s = time.perf_counter() - t0
    seeds, alpha = [], None
    if args.darts_steps:
        alpha = hybrid.train_alphas(
            net,
            x[train],
            y[train],
            steps=args.darts_steps,
            batch_size=args.batch_size,
            seed=args.seed,
        )
        seeds = hybrid.seeds_from_alphas(alpha, max(2, args.generation // 2), seed=args.seed)
    objective = hybrid.SupernetObjective(
        net, x[val], y[val], costs=objectives[1:], dataset=args.cost_dataset, bn=args.bn
    )
    result = hybrid.search(
        objective,
        algo=args.algo,
        objectives=objectives,
        budget=args.budget,
        generation=args.generation,
        population=args.population,
        seeds=seeds,
        seed=args.seed,
        progress=args.progress,
    )
    summary = write_outputs(args, objectives, result, objective, losses, train_s, alpha, out)
    print(summary)
    return 0


def write_outputs(args, objectives, result, objective, losses, train_s, alpha, out: Path) -> str:
    from nasfast.nn.nb201_supernet import arch_to_str
    from nasfast.pareto import hypervolume
    from nasfast.search.protocol import write_json

    history, best_so_far = [], -1.0
    for e in result.history:
        best_so_far = max(best_so_far, e.metrics["accuracy"])
        row = {"step": e.step, "arch": arch_to_str(e.candidate)}
        row.update({k: v for k, v in e.metrics.items() if k != "arch"})
        row["incumbent_accuracy"] = best_so_far
        history.append(row)
    best = result.best
    multi = len(objectives) > 1
    front = [
        {"arch": arch_to_str(e.candidate), "index": e.metrics["index"]}
        | {n: e.metrics[n] for n in objectives}
        | {"final_acc": e.metrics["final_acc"]}
        for e in result.front()
    ]
    hv = None
    if multi:
        F = result.problem.normalised_F([e.metrics for e in result.front()])
        hv = hypervolume(F, [1.0] * len(objectives))
    body: dict[str, Any] = {
        "search": "hybrid",
        "strategy": args.algo,
        "data": args.data or "default",
        "objectives": objectives,
        "cost_dataset": args.cost_dataset,
        "supernet": {
            "C": args.C,
            "N": args.N,
            "steps": args.steps,
            "paths": args.paths,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "bn": args.bn,
            "final_loss": losses[-1] if losses else None,
        },
        "darts_alpha": None if alpha is None else alpha.tolist(),
        "budget": args.budget,
        "generation": args.generation,
        "seed": args.seed,
        "best_arch": arch_to_str(best.candidate),
        "best_index": best.metrics["index"],
        "best": {k: v for k, v in best.metrics.items() if k != "arch"},
        "n_evals": result.n_evals,
        "stopped": result.stopped,
        "timing": {
            "train_s": train_s,
            "score_s": objective.seconds,
            "batched_calls": objective.calls,
            "archs_scored": objective.scored,
        },
        "history": history,
    }
    write_json(out / "results.json", body)
    if multi:
        write_json(
            out / "front.json",
            {
                "objectives": objectives,
                "normalisation": "accuracy in [0, 100], costs min-max over the NB201 table; "
                "all minimised",
                "ref": [1.0] * len(objectives),
                "hypervolume": hv,
                "front": front,
            },
        )
    if not args.no_plots:
        from nasfast.search.plots import plot_convergence

        curve = np.array([[h["incumbent_accuracy"] for h in history]])
        plot_convergence(
            {f"hybrid-{args.algo}": curve},
            out / "convergence.png",
            ylabel="supernet validation accuracy of the best found (%)",
            title="hybrid search over the NB201 supernet",
        )
        if len(objectives) == 2:
            _plot_front(result, objectives, out / "front.png")
    lines = []
    if not args.quiet and multi:
        lines.append(
            f"front ({len(front)} cells): "
            + "; ".join(
                f"{p['arch']} " + " ".join(f"{n}={p[n]:.3g}" for n in objectives) for p in front[:8]
            )
        )
    lines.append(
        f"hybrid-{args.algo} {objectives}, {result.n_evals} archs scored in {objective.calls} "
        f"batched calls ({objective.seconds:.1f} s; supernet training {train_s:.1f} s): best "
        f"{arch_to_str(best.candidate)} supernet accuracy {best.metrics['accuracy']:.2f}% "
        f"(NB201 200-epoch {args.cost_dataset} accuracy {best.metrics['final_acc']:.2f})"
        + (f", hypervolume {hv:.4f}" if hv is not None else "")
        + f"; wrote {out / 'results.json'}"
    )
    return "\n".join(lines)


def _plot_front(result, objectives: list[str], path: Path) -> None:
    from nasfast.search.plots import _pyplot, save_figure

    plt = _pyplot()

    E = np.array([[e.metrics[objectives[1]], e.metrics["accuracy"]] for e in result.history])
    Fr = np.array([[e.metrics[objectives[1]], e.metrics["accuracy"]] for e in result.front()])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.scatter(E[:, 0], E[:, 1], s=5, c="0.7", label="evaluated")
    order = np.argsort(Fr[:, 0])
    ax.plot(Fr[order, 0], Fr[order, 1], "-o", c="tab:red", ms=4, label="found front")
    ax.set_xlabel(objectives[1])
    ax.set_ylabel("supernet validation accuracy (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path)
