"""``nasfast search darts``: DARTS (first/second order), GDAS, PC-DARTS, P-DARTS, cost-aware."""

from __future__ import annotations

import argparse

from nasfast.cli.common import (
    DATASETS_HELP,
    DefaultsFormatter,
    add_device_args,
    add_image_data_args,
    add_progress_arg,
    add_run_folder_args,
    check_device,
    check_rounds,
    freeze_gc,
    progress_of,
    set_threads,
)
from nasfast.cli.errors import one_line_errors


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def _float_list(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


def register(strategies: argparse._SubParsersAction) -> None:
    from nasfast.darts.search import SearchConfig

    d = SearchConfig()
    p = strategies.add_parser(
        "darts",
        help="differentiable architecture search (DARTS, GDAS, PC-DARTS, P-DARTS, cost-aware)",
        description=(
            "DARTS search on image data. Defaults follow the DARTS paper. Against the "
            "skip-connect collapse the derived normal cell keeps at most --max-skips (2) "
            "skip_connect ops (P-DARTS's rule); --max-skips -1 turns that off. Ctrl-C finishes "
            "the step, writes the checkpoint and stops; --resume continues."
        ),
        formatter_class=DefaultsFormatter,
    )
    one_line_errors(p)
    g = p.add_argument_group("data and output")
    add_image_data_args(
        g,
        d.dataset,
        DATASETS_HELP + " (.npz, idx(.gz) directory, CIFAR-10 python directory)",
        "use only this many training images (before the 50/50 train/val split)",
    )
    g.add_argument("--out", default="darts-search", help="output directory")
    add_run_folder_args(g, "checkpoint.pt")
    g.add_argument(
        "--checkpoint-every",
        type=int,
        default=0,
        metavar="STEPS",
        help="also checkpoint every STEPS steps (0: at epoch ends and the end only)",
    )
    add_progress_arg(g)
    g = p.add_argument_group("schedule")
    g.add_argument("--epochs", type=int, default=d.epochs, help="epochs; schedules follow this")
    g.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="stop after this many steps in total (a later --resume continues; default: none)",
    )
    g.add_argument("--batch-size", type=int, default=d.batch_size, help="images per step")
    g.add_argument("--channels", type=int, default=d.channels, help="initial channels C")
    g.add_argument("--layers", type=int, default=d.layers, help="cells in the search network")
    g.add_argument("--seed", type=int, default=d.seed, help="seed of the split, init and batches")
    add_device_args(g)
    g.add_argument(
        "--batch-shards",
        type=int,
        default=None,
        help="split each batch into this many shards, each with its own BatchNorm statistics, "
        "spread over the torchrun processes (default: one per process)",
    )
    g.add_argument(
        "--backend",
        default="fused",
        choices=("fused", "reference"),
        help="DartsEdge backend (same numbers, fused is faster)",
    )
    g.add_argument(
        "--time-backends",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="after the search, time ROUNDS interleaved steps fused vs reference; print the ratio",
    )
    g = p.add_argument_group("optimization (DARTS paper defaults)")
    g.add_argument(
        "--order",
        default=d.order,
        choices=("auto", "first", "second"),
        help="architect order; auto = second for plain DARTS, first for the variants",
    )
    g.add_argument("--lr", type=float, default=d.lr, help="weight learning rate (cosine start)")
    g.add_argument("--lr-min", type=float, default=d.lr_min, help="cosine end, <= --lr")
    g.add_argument("--momentum", type=float, default=d.momentum, help="SGD momentum, [0, 1)")
    g.add_argument("--weight-decay", type=float, default=d.weight_decay, help="weights, >= 0")
    g.add_argument("--grad-clip", type=float, default=d.grad_clip, help="max weight-grad norm")
    g.add_argument("--arch-lr", type=float, default=d.arch_lr, help="Adam lr of the alphas")
    g.add_argument(
        "--arch-weight-decay", type=float, default=d.arch_weight_decay, help="alphas, >= 0"
    )
    g.add_argument(
        "--warmup-epochs",
        type=int,
        default=d.warmup_epochs,
        help="epochs (per stage) of weight training before the alphas move",
    )
    g.add_argument(
        "--max-skips",
        type=int,
        default=d.max_skips,
        help="most skip_connect ops in the derived normal cell (-1: no bound)",
    )
    g = p.add_argument_group("variants")
    g.add_argument(
        "--sampler",
        default=d.sampler,
        choices=("softmax", "gumbel"),
        help="gumbel = GDAS (hard Gumbel-softmax, one op per edge)",
    )
    g.add_argument("--tau-max", type=float, default=d.tau_max, help="GDAS start temperature")
    g.add_argument("--tau-min", type=float, default=d.tau_min, help="GDAS end, <= --tau-max")
    g.add_argument(
        "--partial-channels",
        type=int,
        default=d.partial_channels,
        metavar="K",
        help="PC-DARTS: 1/K of the channels through the mixed op (1 = off)",
    )
    g.add_argument("--progressive", action="store_true", help="P-DARTS stages")
    g.add_argument(
        "--stage-layers",
        type=_int_list,
        default=None,
        help="P-DARTS layers per stage (default: L,L+6,L+12)",
    )
    g.add_argument(
        "--stage-ops",
        type=_int_list,
        default=d.stage_ops,
        help="P-DARTS ops kept per edge after each stage but the last",
    )
    g.add_argument(
        "--stage-skip-dropout",
        type=_float_list,
        default=d.stage_skip_dropout,
        help="P-DARTS skip_connect dropout per stage",
    )
    g.add_argument(
        "--complexity-weight",
        type=float,
        default=d.complexity_weight,
        metavar="LAMBDA",
        help="loss + LAMBDA * expected cost (0 = off)",
    )
    g.add_argument(
        "--complexity",
        default=d.complexity,
        choices=("params", "flops", "latency"),
        help="the cost --complexity-weight penalizes",
    )
    g.add_argument(
        "--cost-table", default=None, help="JSON per-op cost table (default: the built-in one)"
    )
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    from nasfast.darts.search import SearchConfig

    return SearchConfig(
        dataset=args.dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        channels=args.channels,
        layers=args.layers,
        seed=args.seed,
        lr=args.lr,
        lr_min=args.lr_min,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        grad_clip=args.grad_clip,
        arch_lr=args.arch_lr,
        arch_weight_decay=args.arch_weight_decay,
        train_images=args.train_images,
        order=args.order,
        sampler=args.sampler,
        tau_max=args.tau_max,
        tau_min=args.tau_min,
        partial_channels=args.partial_channels,
        progressive=args.progressive,
        stage_layers=args.stage_layers,
        stage_ops=args.stage_ops,
        stage_skip_dropout=args.stage_skip_dropout,
        complexity_weight=args.complexity_weight,
        complexity=args.complexity,
        cost_table=args.cost_table,
        max_skips=args.max_skips,
        warmup_epochs=args.warmup_epochs,
        backend=args.backend,
        batch_shards=args.batch_shards,
    )


def run(args: argparse.Namespace) -> int:
    from nasfast.distributed import process_group

    set_threads(args.threads)
    check_device(args.device)
    check_rounds("--time-backends", args.time_backends)
    check_rounds("--checkpoint-every", args.checkpoint_every)
    cfg = config_from_args(args)
    cfg.validate()
    with process_group(args.device) as device:
        return _search(args, cfg, device)


def _search(args: argparse.Namespace, cfg, device: str) -> int:
    from nasfast.darts.search import DartsSearch
    from nasfast.datasets import load_images

    data = load_images(cfg.dataset)
    search = DartsSearch(cfg, data, args.out, device=device, progress=progress_of(args))
    freeze_gc()
    run_args = {
        "resume": args.resume,
        "max_steps": args.max_steps,
        "overwrite": args.overwrite,
        "checkpoint_every": args.checkpoint_every,
    }
    if not search.dp.is_main:  # the same steps and collectives as rank 0, silently
        search.run(**run_args)
        if args.time_backends:
            from nasfast.darts.timing import time_backends

            time_backends(cfg, data, args.time_backends, device=device)
        return 0
    C, H, W = data.shape
    world = search.dp.world_size
    print(
        f"darts search: {cfg.dataset} ({len(search.train_idx)} train / {len(search.val_idx)} val, "
        f"{C}x{H}x{W}, {data.num_classes} classes), order {search.order}, backend {cfg.backend}, "
        f"{search.total_steps} steps"
        + (f", {world} processes x {search.dp.local_shards} shards" if world > 1 else "")
    )
    genotype = search.run(**run_args)
    print(genotype.describe())
    status = "complete" if search.step >= search.total_steps else f"stopped at step {search.step}"
    print(f"search {status} in {search.elapsed:.1f} s; wrote {args.out}/genotype.json")
    if args.time_backends:
        from nasfast.darts.timing import time_backends

        t = time_backends(cfg, data, args.time_backends, device=device)
        print(
            f"step time: fused {t['fused_s'] * 1e3:.0f} ms, reference {t['reference_s'] * 1e3:.0f}"
            f" ms; fused/reference speed-up {t['ratio']:.2f}x (median of {t['rounds']} "
            "interleaved rounds)"
        )
    return 0
