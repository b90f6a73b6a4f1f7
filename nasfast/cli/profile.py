"""``nasfast profile``: measure a space's operators on this device into a latency table, or
predict the latency and memory of one architecture from a table."""

from __future__ import annotations

import argparse
from pathlib import Path

from nasfast.cli.common import check_device


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profile",
        help="profile a space's ops on this device (latency table), or predict an arch from one",
    )
    p.add_argument("--space", default="nb201", help="nb201 (default) or darts")
    p.add_argument("--channels", type=int, default=None, help="initial channels C (16)")
    p.add_argument("--cells", type=int, default=None, help="nb201: cells per stage N (5)")
    p.add_argument("--layers", type=int, default=None, help="darts: cells (8)")
    p.add_argument("--batch", type=int, default=None, help="batch size of the input (1)")
    p.add_argument("--image", default=None, help="input CxHxW (default 3x32x32)")
    p.add_argument("--classes", type=int, default=None, help="classifier outputs (10)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (CUDA-event timing)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads while timing (1)")
    p.add_argument("--warmup", type=int, default=3, help="calls before timing each op (3)")
    p.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds (7)")
    p.add_argument("--statistic", default="min", help="min (default), median or trimmed_mean")
    p.add_argument(
        "--clock",
        default="auto",
        help="auto (default: thread CPU time on a CPU with 1 thread, else wall), wall or thread",
    )
    p.add_argument(
        "--calibrate", type=int, default=16, help="random networks measured end to end (16)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the calibration networks")
    p.add_argument("--out", default=None, help="table path (default profile-<space>.json)")
    p.add_argument("--table", default=None, help="predict from this table instead of profiling")
    p.add_argument("--arch", default=None, help="with --table: NB201 arch / DARTS genotype.json")
    p.add_argument("--progress", action="store_true", help="show progress")
    p.set_defaults(func=run)


def parse_image(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        dims = [int(v) for v in text.lower().split("x")]
    except ValueError:
        dims = []
    if len(dims) != 3 or min(dims) < 1:
        raise ValueError(f"--image: expected CxHxW positive ints, e.g. 3x32x32, got {text!r}")
    return dims


def space_of(args: argparse.Namespace) -> dict:
    from nasfast.hardware import spaces

    if args.space not in spaces.SPACES:
        raise ValueError(f"--space: expected one of {', '.join(spaces.SPACES)}, got {args.space!r}")
    if args.space == "nb201" and args.layers is not None:
        raise ValueError("--layers: the nb201 space has --cells per stage")
    if args.space == "darts" and args.cells is not None:
        raise ValueError("--cells: the darts space has --layers")
    flags = {"C": "--channels", "N": "--cells", "layers": "--layers", "batch": "--batch"}
    values = {"C": args.channels, "N": args.cells, "layers": args.layers, "batch": args.batch}
    for key, v in values.items():
        if v is not None and v < 1:
            raise ValueError(f"{flags[key]}: expected an int >= 1, got {v}")
    overrides = {k: v for k, v in values.items() if v is not None}
    overrides["image"] = parse_image(args.image)
    overrides["num_classes"] = args.classes
    return spaces.space_config(args.space, **overrides)


def run(args: argparse.Namespace) -> int:
    if args.table is not None:
        return predict(args)
    from nasfast.hardware.space_profile import profile_space
    from nasfast.hardware.timing import TimingSettings

    cfg = space_of(args)
    try:
        settings = TimingSettings(args.warmup, args.rounds, 1.0, args.statistic, args.clock)
    except ValueError as exc:
        raise ValueError(f"--{exc}") from None
    if args.calibrate < 0 or args.calibrate == 1:
        raise ValueError(f"--calibrate: expected 0 or an int >= 2, got {args.calibrate}")
    if args.threads < 1:
        raise ValueError(f"--threads: expected an int >= 1, got {args.threads}")
    check_device(args.device)
    if args.clock == "thread" and (args.threads != 1 or args.device != "cpu"):
        raise ValueError("--clock: thread CPU time needs --device cpu and --threads 1")
    table = profile_space(
        cfg,
        device=args.device,
        threads=args.threads,
        settings=settings,
        calibration_networks=args.calibrate,
        seed=args.seed,
        progress=args.progress,
    )
    if args.space == "darts":
        from nasfast.hardware.darts_costs import darts_costs
        from nasfast.hardware.latency import LatencyPredictor

        predictor = LatencyPredictor(table, missing="profile")
        table.extra["darts_costs"] = darts_costs(
            predictor, cfg["C"], cfg["layers"], cfg["image"], cfg["batch"]
        )
    out = table.save(Path(args.out or f"profile-{args.space}.json"))
    cal = table.calibration
    fit = f"; calibration fit {cal['fit_within_10pct'] * 100:.0f}% within 10%" if cal else ""
    print(
        f"profiled {len(table.ops)} distinct ops of {args.space} on {table.device['name']} "
        f"({table.device['type']}, threads {table.device['threads']}){fit}; wrote {out}"
    )
    return 0


def predict(args: argparse.Namespace) -> int:
    from nasfast.hardware import spaces
    from nasfast.hardware.latency import LatencyPredictor
    from nasfast.hardware.memory import inference_memory, training_memory
    from nasfast.hardware.table import LatencyTable

    table = LatencyTable.load(args.table)
    if args.arch is None:
        raise ValueError("--arch: give the architecture to predict with --table")
    if table.space is None:
        raise ValueError(f"--table: {args.table} names no space, so --arch cannot be built")
    try:
        arch = parse_arch(table.space["name"], args.arch)
    except ValueError as exc:
        text = str(exc)
        raise ValueError(text if text.startswith("--") else f"--arch: {text}") from None
    net = spaces.build_network(table.space, arch)
    shape = spaces.input_shape(table.space)
    ms = LatencyPredictor(table, missing="profile").predict(net, shape)
    mem = inference_memory(net, shape)
    train = training_memory(net, shape)
    print(
        f"latency {ms:.3f} ms (predicted, {table.device['name']}); peak memory at batch "
        f"{shape[0]}: inference {mem.peak_mb:.2f} MB, training {train.peak_mb:.2f} MB "
        f"(SGD momentum; parameters {mem.params / 2**20:.2f} MB)"
    )
    return 0


def parse_arch(space: str, text: str):
    if space == "nb201":
        from nasfast.spaces.nb201 import NB201Space

        return NB201Space().parse(text)
    from nasfast.hardware.spaces import _darts

    Genotype, _ = _darts()
    return Genotype.load(text)
