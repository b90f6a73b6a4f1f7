"""``nasfast search hybrid``: evolution (REA or NSGA-II) over a trained NB201 supernet.

Trains the supernet (uniform single-path, several paths per step, batched), optionally learns
DARTS alphas on it to seed the first population, then searches with every generation scored in
one batched supernet pass. Writes results.json (and front.json with several objectives),
convergence.png / front.png, and the supernet checkpoint (continued with --resume) under --out.
"""

from __future__ import annotations

import argparse

from nasfast.cli.common import (
    DefaultsFormatter,
    add_progress_arg,
    add_run_folder_args,
    freeze_gc,
    progress_of,
)

RUN_FILES = ("supernet.pt", "results.json", "front.json", "convergence.png", "front.png")


def register(strategies: argparse._SubParsersAction) -> None:
    p = strategies.add_parser(
        "hybrid",
        help="regularized evolution / NSGA-II over a trained NB201 supernet",
        description=(
            "Train an NB201 supernet on images, then search it with evolution. A folder that "
            "holds a run is refused: --resume continues its supernet (same settings), "
            "--overwrite replaces it."
        ),
        formatter_class=DefaultsFormatter,
    )
    hidden = argparse.SUPPRESS
    p.add_argument(
        "--dataset",
        dest="data",
        default=None,
        help="images: a name or path nasfast.datasets knows, or an idx(.gz) directory such as "
        "Fashion-MNIST's (default: the shipped mnist-small)",
    )
    p.add_argument("--data", dest="data", help=hidden)
    p.add_argument("--algo", default="rea", help="the strategy: rea or nsga2")
    p.add_argument(
        "--objectives",
        default="accuracy",
        help="accuracy[,params|flops|latency:DEVICE] (costs from the NB201 table)",
    )
    p.add_argument("--cost-dataset", default="cifar10", help="table costs for this data set")
    p.add_argument("--budget", type=int, default=200, help="architectures scored")
    p.add_argument("--generation", type=int, default=32, help="candidates scored per batch")
    p.add_argument(
        "--pop-size",
        dest="population",
        type=int,
        default=None,
        help="population size (default: max(generation, 10) for rea, generation for nsga2)",
    )
    p.add_argument("--population", dest="population", type=int, help=hidden)
    p.add_argument("--seed", type=int, default=0, help="seed of the split, training and search")
    p.add_argument("--channels", dest="C", type=int, default=8, help="supernet channels C")
    p.add_argument("--C", dest="C", type=int, help=hidden)
    p.add_argument("--cells", dest="N", type=int, default=1, help="cells per stage N")
    p.add_argument("--N", dest="N", type=int, help=hidden)
    p.add_argument("--steps", type=int, default=300, help="supernet training steps")
    p.add_argument("--batch-size", type=int, default=64, help="images per training step")
    p.add_argument("--paths", type=int, default=4, help="paths sampled per training step")
    p.add_argument("--lr", type=float, default=0.05, help="supernet learning rate (cosine)")
    p.add_argument(
        "--train-images", type=int, default=None, help="use this many train images (default: all)"
    )
    p.add_argument("--val-images", type=int, default=1000, help="held-out images for accuracy")
    p.add_argument(
        "--bn",
        default="batch",
        help="BatchNorm statistics: batch (recalibrate per candidate) or running",
    )
    p.add_argument("--darts-steps", type=int, default=0, help="seed from DARTS alphas (0: off)")
    p.add_argument("--out", default="runs/hybrid", help="output folder")
    add_run_folder_args(p, "supernet.pt")
    p.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    add_progress_arg(p)
    p.add_argument("--quiet", action="store_true", help="print the summary line only")
    p.set_defaults(func=run)


def config_of(args: argparse.Namespace):
    from nasfast.oneshot import HybridConfig

    return HybridConfig(
        data=args.data,
        algo=args.algo,
        objectives=[o.strip() for o in args.objectives.split(",") if o.strip()],
        cost_dataset=args.cost_dataset,
        budget=args.budget,
        generation=args.generation,
        population=args.population,
        seed=args.seed,
        C=args.C,
        N=args.N,
        steps=args.steps,
        batch_size=args.batch_size,
        paths=args.paths,
        lr=args.lr,
        bn=args.bn,
        val_images=args.val_images,
        train_images=args.train_images,
        darts_steps=args.darts_steps,
    )


def run(args: argparse.Namespace) -> int:
    import os

    from nasfast.datasets import load_images
    from nasfast.distributed import process_group, rank
    from nasfast.oneshot import run_hybrid
    from nasfast.oneshot.report import write_hybrid_report
    from nasfast.runs import prepare_out

    config = config_of(args)
    config.validate()
    images = load_images(args.data) if args.data else load_images()
    # under torchrun every process refuses a used folder alike; the first one prepares it
    first = os.environ.get("RANK", "0") == "0"
    prepare_out(
        args.out, RUN_FILES, resume=args.resume, overwrite=args.overwrite, check_only=not first
    )
    freeze_gc()
    with process_group("cpu"):  # under torchrun: data-parallel supernet training
        run_ = run_hybrid(
            config,
            images.x_train,
            images.y_train.long(),
            int(images.num_classes),
            checkpoint=os.path.join(args.out, "supernet.pt"),
            resume=args.resume,
            progress=progress_of(args) and rank() == 0,
        )
        if rank() != 0:
            return 0
    print(write_hybrid_report(run_, args.out, plots=not args.no_plots, verbose=not args.quiet))
    return 0
