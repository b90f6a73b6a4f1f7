"""``nasfast train --early-stop``: end training when the extrapolated curve cannot pay off."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasfast.estimate.curves.stopping import EarlyStop


def add_early_stop_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--early-stop",
        action="store_true",
        help="stop when the test accuracy extrapolated to --epochs (learning-curve ensemble, "
        "optimistic end of its 90%% band) cannot beat --early-stop-target, or without a target "
        "the best accuracy seen so far",
    )
    p.add_argument(
        "--early-stop-target",
        type=float,
        default=None,
        metavar="ACC",
        help="accuracy in %% to beat, e.g. the best model's so far (implies --early-stop)",
    )
    p.add_argument(
        "--early-stop-min-epochs",
        type=int,
        default=3,
        metavar="N",
        help="epochs observed before the rule may stop the run (default 3)",
    )


def make_stop_when(
    args: argparse.Namespace,
) -> tuple[Callable[[dict], bool], EarlyStop] | None:
    """(callback for ``train_network(stop_when=...)``, the :class:`EarlyStop`), or None when
    early stopping is off. On ``--resume`` the epochs already logged are fed in first."""
    if not args.early_stop and args.early_stop_target is None:
        return None
    from nasfast.estimate.curves.stopping import EarlyStop, StopRule

    target = args.early_stop_target
    if target is not None and not 0.0 <= target <= 100.0:
        raise ValueError(f"--early-stop-target: expected an accuracy in [0, 100] %, got {target}")
    if args.early_stop_min_epochs < 2:
        raise ValueError(
            f"--early-stop-min-epochs: expected an int >= 2, got {args.early_stop_min_epochs}"
        )
    rule = StopRule(min_points=args.early_stop_min_epochs, limits=(0.0, 100.0))
    stopper = EarlyStop(args.epochs, target, rule=rule)
    if args.resume and args.out:
        for rec in _logged(os.path.join(args.out, "train_metrics.jsonl")):
            stopper.add(rec["epoch"] + 1, 100.0 * rec["test_acc"])

    def stop_when(rec: dict) -> bool:
        return stopper.add(rec["epoch"] + 1, 100.0 * rec["test_acc"])

    return stop_when, stopper


def _logged(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if not rec.get("partial"):
                rows.append(rec)
    return rows
