"""``nasfast train --genotype genotype.json``: train the derived network from scratch."""

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
from nasfast.cli.train_early_stop import add_early_stop_args, make_stop_when


def register(sub: argparse._SubParsersAction) -> None:
    from nasfast.darts.train import TrainConfig

    d = TrainConfig()
    p = sub.add_parser(
        "train",
        help="train the network of a DARTS genotype from scratch and report test accuracy",
        description=(
            "Defaults follow the DARTS CIFAR-10 evaluation (600 epochs, 20 cells, C=36). With "
            "--out DIR the run writes DIR/train_checkpoint.pt atomically at every epoch end "
            "(and every --checkpoint-every steps, and when --max-steps stops it); --resume "
            "continues from it and ends exactly where an uninterrupted run ends (on CPU, same "
            "--threads). The lr and drop-path schedules follow --epochs, never --max-steps. "
            "Ctrl-C finishes the step, writes the checkpoint and stops. --resume on a finished "
            "run with --export exports its saved model.pt again."
        ),
        formatter_class=DefaultsFormatter,
    )
    one_line_errors(p)
    p.add_argument("--genotype", required=True, help="genotype.json from `nasfast search darts`")
    add_image_data_args(p, "mnist-small", DATASETS_HELP, "use only this many training images")
    p.add_argument(
        "--epochs",
        type=int,
        default=d.epochs,
        help="epochs; the lr and drop-path schedules follow this",
    )
    p.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="stop after this many steps in total (a later --resume continues; default: none)",
    )
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="images per step")
    p.add_argument("--channels", type=int, default=36, help="initial channels C")
    p.add_argument("--layers", type=int, default=20, help="cells of the network")
    p.add_argument("--lr", type=float, default=d.lr, help="learning rate (cosine to 0)")
    p.add_argument("--momentum", type=float, default=d.momentum, help="SGD momentum, [0, 1)")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help="L2, >= 0")
    p.add_argument("--grad-clip", type=float, default=d.grad_clip, help="max gradient norm")
    p.add_argument("--cutout", action="store_true", help="cutout augmentation")
    p.add_argument(
        "--cutout-length", type=int, default=d.cutout_length, help="side of the cutout square"
    )
    p.add_argument(
        "--drop-path", type=float, default=d.drop_path, help="final drop-path probability"
    )
    p.add_argument("--auxiliary", action="store_true", help="auxiliary head at 2/3 of the depth")
    p.add_argument(
        "--auxiliary-weight", type=float, default=d.auxiliary_weight, help="weight of its loss"
    )
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the init and batches")
    add_device_args(p)
    p.add_argument(
        "--out",
        default=None,
        help="directory for train_metrics.jsonl, train_checkpoint.pt, model.pt, result.json "
        "(default: none, nothing written)",
    )
    add_run_folder_args(p, "train_checkpoint.pt")
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=0,
        metavar="STEPS",
        help="also checkpoint every STEPS steps (default 0: at epoch ends only)",
    )
    p.add_argument(
        "--export",
        default=None,
        metavar="PATH",
        help="also save the trained network with torch.export (load: torch.export.load)",
    )
    add_progress_arg(p)
    add_early_stop_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nasfast.darts.genotype import Genotype
    from nasfast.darts.model import count_parameters
    from nasfast.darts.retrain import (
        finished_model,
        genotype_network,
        resume_settings,
        save_trained,
    )
    from nasfast.darts.train import TrainConfig, export_module, train_network
    from nasfast.datasets import load_images

    set_threads(args.threads)
    check_device(args.device)
    if args.max_steps is not None and args.max_steps < 1:
        raise ValueError(f"--max-steps: expected a positive count, got {args.max_steps}")
    if args.resume and not args.out:
        raise ValueError("--resume: needs --out DIR, the directory holding train_checkpoint.pt")
    if args.overwrite and not args.out:
        raise ValueError("--overwrite: needs --out DIR, the run to replace")
    check_rounds("--checkpoint-every", args.checkpoint_every)
    for flag, value in (("--channels", args.channels), ("--layers", args.layers)):
        if value < 1:
            raise ValueError(f"{flag}: expected a positive integer, got {value}")
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        grad_clip=args.grad_clip,
        cutout=args.cutout,
        cutout_length=args.cutout_length,
        drop_path=args.drop_path,
        auxiliary_weight=args.auxiliary_weight,
        seed=args.seed,
        train_images=args.train_images,
    )
    cfg.validate()
    early = make_stop_when(args)
    genotype = Genotype.load(args.genotype)
    if args.resume and args.export:
        done = finished_model(args.out, genotype, args.channels, args.layers, args.auxiliary)
        if done is not None:
            net, example = done
            export_module(net, example, args.export)
            print(f"the run in {args.out} is finished; exported its model.pt to {args.export}")
            return 0
    data = load_images(args.dataset)
    net = genotype_network(
        genotype,
        data,
        channels=args.channels,
        layers=args.layers,
        auxiliary=args.auxiliary,
        seed=args.seed,
    )
    n_params = count_parameters(net)
    print(
        f"train: {args.dataset}, {args.layers} cells, C={args.channels}, "
        f"{n_params / 1e6:.3f} M params"
    )
    freeze_gc()
    result = train_network(
        net,
        data,
        cfg,
        out=args.out,
        device=args.device,
        max_steps=args.max_steps,
        progress=progress_of(args),
        resume=args.resume,
        checkpoint_every=args.checkpoint_every,
        settings=resume_settings(net, args.channels, args.layers),
        overwrite=args.overwrite,
        stop_when=early[0] if early else None,
    )
    result["params"] = n_params
    if early and result["stopped_early"]:
        result["predicted_final_acc"] = early[1].predicted
        print(
            f"early stop after epoch {result['steps'] // (result['total_steps'] // args.epochs)}: "
            f"predicted final test accuracy {early[1].predicted:.2f}%"
        )
    status = "" if result["complete"] else f", stopped at step {result['steps']}"
    print(
        f"test accuracy: {100 * result['test_acc']:.2f}% ({data.x_test.shape[0]} images, "
        f"{result['steps']} of {result['total_steps']} steps{status}, "
        f"{result['train_seconds']:.1f} s)"
    )
    if args.out:
        save_trained(args.out, net, data, result, args.channels)
    if args.export:
        net.auxiliary_head = None
        export_module(net.cpu(), data.x_test[:1], args.export)
        print(f"exported to {args.export} (torch.export.load(path).module())")
    return 0
