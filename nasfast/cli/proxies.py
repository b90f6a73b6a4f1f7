"""``nasfast proxies``: zero-cost proxies of NAS-Bench-201 cells against the table's accuracy."""

from __future__ import annotations

import argparse
import time

from nasfast.cli.common import add_threads_arg, set_threads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "proxies", help="score NB201 cells by zero-cost proxies, correlate with accuracy"
    )
    p.add_argument("--benchmark", default="nb201", help="nb201 (the only one so far)")
    p.add_argument("--proxy", default="synflow", help="comma-separated proxy names")
    p.add_argument("--n", type=int, default=1000, help="cells sampled from the table")
    p.add_argument(
        "--arch",
        action="append",
        default=None,
        help="score this cell (arch string, 6 op digits or index); repeatable",
    )
    p.add_argument("--seed", type=int, default=0, help="sample and initialisation seed")
    p.add_argument(
        "--init",
        choices=("supernet", "independent"),
        default="supernet",
        help="shared supernet weights (batched) or each cell its own init",
    )
    p.add_argument(
        "--dataset",
        default="mnist-small",
        help="images for the data-dependent proxies: mnist-small (shipped) | "
        "fashion-mnist | cifar10 | PATH",
    )
    p.add_argument("--batch", type=int, default=32, help="images in the proxy minibatch")
    p.add_argument("--channels", type=int, default=16, help="NB201 network width C")
    p.add_argument("--cells", type=int, default=5, help="cells per stage N")
    p.add_argument("--json", metavar="PATH", help="also write the scores as JSON")
    add_threads_arg(p, "torch.set_num_threads")
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> list[str]:
    from nasfast.estimate.zero_cost import PROXIES, get_proxy

    if args.benchmark != "nb201":
        raise ValueError(f"--benchmark: expected nb201, got {args.benchmark!r}")
    names = [s.strip() for s in args.proxy.split(",") if s.strip()]
    if not names or any(n not in PROXIES for n in names):
        raise ValueError(
            f"--proxy: expected names from {', '.join(sorted(PROXIES))}, got {args.proxy!r}"
        )
    for flag, value, hi in (
        ("--n", args.n, 15625),
        ("--batch", args.batch, None),
        ("--channels", args.channels, None),
        ("--cells", args.cells, None),
    ):
        if value < 1 or (hi is not None and value > hi):
            raise ValueError(f"{flag}: expected an int in 1..{hi or 'inf'}, got {value}")
    if any(get_proxy(n).needs_data for n in names) and args.batch < 2:
        raise ValueError(f"--batch: expected at least 2 images, got {args.batch}")
    return names


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from scipy import stats

    from nasfast.estimate.zero_cost import get_proxy
    from nasfast.estimate.zero_cost.data import proxy_batch
    from nasfast.estimate.zero_cost.nb201 import score_nb201
    from nasfast.spaces import NB201Space
    from nasfast.tabular.nb201 import NB201Table

    names = _check_args(args)
    set_threads(args.threads)
    table = NB201Table.load()
    if args.arch:
        space = NB201Space(table)
        try:
            idx = np.array([table.index_of(space.parse(_arch_arg(a))) for a in args.arch])
        except ValueError as exc:
            raise ValueError(f"--arch: {exc}") from None
    else:
        idx = np.random.default_rng(args.seed).choice(len(table), args.n, replace=False)
    archs = table.ops[idx].astype(np.int64)
    if any(get_proxy(n).needs_data for n in names):
        batch: object = proxy_batch(args.dataset, n=args.batch, seed=args.seed)
    else:
        batch = (3, 32, 32)
    t0 = time.perf_counter()
    scores = score_nb201(
        archs,
        batch,
        names,
        init=args.init,
        backend="batched" if args.init == "supernet" else "loop",
        C=args.channels,
        N=args.cells,
        seed=args.seed,
        allow_nan=True,
    )
    seconds = time.perf_counter() - t0
    acc = table.column(table.final_accuracy_column("cifar10"))[idx]
    print(
        f"# {len(idx)} NB201 cells, init={args.init}, {seconds:.1f} s; accuracy: 200-epoch "
        "cifar10-valid"
    )
    if args.arch:
        print("index  accuracy  " + "  ".join(f"{n:>12}" for n in names))
        for k, i in enumerate(idx):
            cols = "  ".join(f"{scores[n][k]:>12.5g}" for n in names)
            print(f"{int(i):>5}  {acc[k]:>8.2f}  {cols}")
    report = {}
    for n in names:
        s = np.where(np.isfinite(scores[n]), scores[n], -np.inf)
        rho = float(stats.spearmanr(s, acc).statistic) if len(idx) > 2 else float("nan")
        report[n] = {"spearman": rho, "scores": scores[n].tolist()}
        if not args.arch:
            print(
                f"{n:<10} Spearman {rho:+.3f}   best-scored cell: index {int(idx[np.argmax(s)])} "
                f"accuracy {acc[np.argmax(s)]:.2f}"
            )
    if args.json:
        from nasfast._atomic import write_json

        write_json(
            args.json, {"indices": idx.tolist(), "accuracy": acc.tolist(), "proxies": report}
        )
        print(f"wrote {args.json}")
    return 0


def _arch_arg(text: str) -> str | int:
    return int(text) if text.isdigit() and len(text) != 6 else text
