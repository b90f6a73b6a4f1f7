"""Early stopping by extrapolated learning curve on real training runs (a report, not a test).

    PYTHONPATH=. python benchmarks/multifidelity_fashion_mnist.py [--seeds 4] [--candidates 10]

Per seed, the same ``--candidates`` random NAS-Bench-201 cells (the seed draws them) are trained
on Fashion-MNIST (``--train-images`` images from its training set, resized to ``--size`` pixels;
``--val-images`` other training images as validation; ``--test-images`` of its test set) by
nasfast's training loop for ``--epochs`` epochs each, validation accuracy logged every epoch:
once to the end (``full``), once with early stopping by extrapolated curve (``early``: a
candidate stops when the 90% band's upper end of its predicted final validation accuracy is
below the incumbent's final one, as predicted from as many of its points with
``--compare same_budget``, or as observed with ``--compare final``). The two runs alternate
which goes first. Reported: training wall-clock and epochs of both, and the test accuracy of the
architecture each picks (best final validation accuracy). Target: >= 2x less wall-clock at no
significant loss of that accuracy.

The ``full`` runs' curves are saved as ``nasfast/data/curves/fashion_mnist_epochs.npz``.
Writes ``benchmarks/results/multifidelity_fashion_mnist.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from nasfast._atomic import write_json
from nasfast.bench.environment import environment
from nasfast.darts.train import TrainConfig
from nasfast.datasets import load_images
from nasfast.estimate.curves.data import LearningCurve, save_curves, shipped_path
from nasfast.search.multifidelity import CurveStopping, minimize_multifidelity
from nasfast.search.multifidelity.training import (
    EpochwiseTraining,
    split_validation,
    training_problem,
)


def prepare(args):
    data = load_images("fashion-mnist")
    perm = torch.randperm(data.x_train.shape[0], generator=torch.Generator().manual_seed(0))
    keep = perm[: args.train_images + args.val_images]

    def resize(x):
        return F.interpolate(x, size=args.size, mode="bilinear", antialias=True)

    data.x_train, data.y_train = resize(data.x_train[keep]), data.y_train[keep]
    n_test = args.test_images
    data.x_test, data.y_test = resize(data.x_test[:n_test]), data.y_test[:n_test]
    return split_validation(data, args.val_images)


def one_run(mode: str, seed: int, data, test, args) -> dict:
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        drop_path=0.0,
        seed=seed,
        weight_decay=3e-4,
    )
    obj = EpochwiseTraining(data, test, cfg, channels=args.channels, cells=1)
    problem = training_problem(obj)
    # "full": a curve never has more points than epochs, so the rule never fires
    min_points = args.min_points if mode == "early" else args.epochs + 1
    sched = CurveStopping(
        min_points=min_points,
        level=0.9,
        limits=(0, 100),
        max_candidates=args.candidates,
        compare=args.compare,
    )
    t0 = time.perf_counter()
    res = minimize_multifidelity(problem, sched, args.candidates * args.epochs, seed=seed)
    wall = time.perf_counter() - t0
    best = res.best
    curves: dict[str, list] = {}
    for r in obj.log:
        curves.setdefault(r["cell"], []).append(r["val_acc"])
    return {
        "mode": mode,
        "seed": seed,
        "wall_s": wall,
        "train_s": obj.train_seconds,
        "epochs": res.spent,
        "n_candidates": sched.n_started,
        "n_stopped": sched.n_stopped,
        "best_arch": problem.describe(best.candidate),
        "best_val_acc": best.metrics["val_acc"],
        "best_test_acc": best.metrics["test_acc"],
        "test_acc_by_cell": {
            problem.describe(e.candidate): e.metrics["test_acc"] for e in res.history
        },
        "curves": curves,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--candidates", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--min-points", type=int, default=3)
    ap.add_argument("--compare", default="same_budget", help="final | same_budget")
    ap.add_argument("--train-images", type=int, default=800)
    ap.add_argument("--val-images", type=int, default=500)
    ap.add_argument("--test-images", type=int, default=2000)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--lr", type=float, default=0.03)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--curves-out", default=str(shipped_path("fashion_mnist_epochs")))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data, test = prepare(args)
    runs = []
    for seed in range(args.seeds):
        order = ("full", "early") if seed % 2 == 0 else ("early", "full")
        for mode in order:
            r = one_run(mode, seed, data, test, args)
            runs.append(r)
            print(
                f"seed {seed} {mode:5s}: {r['wall_s']:.0f} s, {r['epochs']:.0f} epochs, "
                f"stopped {r['n_stopped']}/{r['n_candidates']}, best test {r['best_test_acc']:.2f}",
                flush=True,
            )
            write_json(Path(args.out) / "multifidelity_fashion_mnist.partial.json", {"runs": runs})
    res = summarize(runs, args)
    write_json(Path(args.out) / "multifidelity_fashion_mnist.json", res)
    Path(args.out, "multifidelity_fashion_mnist.md").write_text(markdown(res))
    save_logged_curves(runs, args)
    print(markdown(res))


def summarize(runs: list[dict], args) -> dict:
    from scipy.stats import mannwhitneyu

    full = [r for r in runs if r["mode"] == "full"]
    early = [r for r in runs if r["mode"] == "early"]
    acc_f = np.array([r["best_test_acc"] for r in full])
    acc_e = np.array([r["best_test_acc"] for r in early])
    p = float(mannwhitneyu(acc_f, acc_e, alternative="greater").pvalue)
    return {
        "environment": environment(),
        "command": "PYTHONPATH=. python " + " ".join(sys.argv),
        "settings": vars(args),
        "wall_ratio": sum(r["wall_s"] for r in full) / sum(r["wall_s"] for r in early),
        "train_ratio": sum(r["train_s"] for r in full) / sum(r["train_s"] for r in early),
        "epoch_ratio": sum(r["epochs"] for r in full) / sum(r["epochs"] for r in early),
        "best_test_full": acc_f.tolist(),
        "best_test_early": acc_e.tolist(),
        "loss_mannwhitney_p": p,
        "same_best": sum(f["best_arch"] == e["best_arch"] for f, e in zip(full, early)),
        "runs": runs,
    }


def markdown(res: dict) -> str:
    s = res["settings"]
    lines = [
        "# Early stopping by extrapolated curve: Fashion-MNIST, real training",
        "",
        f"{s['seeds']} seeds x {s['candidates']} random NB201 cells (C={s['channels']}, one cell "
        f"per stage), {s['epochs']} epochs each, {s['train_images']} training images at "
        f"{s['size']}x{s['size']}, {s['val_images']} validation, {s['test_images']} test; "
        f"SGD lr {s['lr']} cosine, batch {s['batch_size']}, {s['threads']} thread. "
        f"Rerun: `{res['command']}`.",
        f"Machine: {res['environment']['cpu']} (shared, busy), commit "
        f"{res['environment']['commit']}.",
        "",
        "| seed | mode | wall-clock (s) | epochs | stopped | best arch's test acc (%) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in res["runs"]:
        lines.append(
            f"| {r['seed']} | {r['mode']} | {r['wall_s']:.0f} | {r['epochs']:.0f} | "
            f"{r['n_stopped']}/{r['n_candidates']} | {r['best_test_acc']:.2f} |"
        )
    lines += [
        "",
        f"- Wall-clock full / early: **{res['wall_ratio']:.2f}x** (training time only "
        f"{res['train_ratio']:.2f}x, epochs {res['epoch_ratio']:.2f}x); target >= 2x.",
        f"- Best architecture's test accuracy: full {np.mean(res['best_test_full']):.2f}, early "
        f"{np.mean(res['best_test_early']):.2f}; one-sided Mann-Whitney p (full > early) "
        f"{res['loss_mannwhitney_p']:.3f}; same architecture picked in {res['same_best']} of "
        f"{len(res['best_test_full'])} seeds.",
    ]
    return "\n".join(lines) + "\n"


def save_logged_curves(runs: list[dict], args) -> None:
    curves = []
    for r in runs:
        if r["mode"] != "full":
            continue
        for cell, ys in r["curves"].items():
            x = np.arange(1, len(ys) + 1, dtype=float)
            curves.append(LearningCurve(f"seed{r['seed']}/{cell}", x, np.array(ys)))
    meta = {
        "source": "nasfast benchmarks/multifidelity_fashion_mnist.py ('full' runs)",
        "how": f"NAS-Bench-201 cells drawn at random (seed per run), trained by nasfast's "
        f"TrainRun on Fashion-MNIST (Zalando SE, MIT): {args.train_images} training images "
        f"resized to {args.size}x{args.size}, SGD lr {args.lr} cosine over {args.epochs} epochs, "
        f"batch {args.batch_size}, C={args.channels}; y is the validation accuracy (%) on "
        f"{args.val_images} held-out training images after each epoch",
        "x": "epoch",
        "y": "validation accuracy in %",
        "limits": [0, 100],
    }
    save_curves(args.curves_out, curves, meta)


if __name__ == "__main__":
    main()
