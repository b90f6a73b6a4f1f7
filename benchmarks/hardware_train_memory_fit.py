"""How well the NAS-Bench-201 ``train_memory`` column's fit matches the exact tracker (a report).

    PYTHONPATH=. python benchmarks/hardware_train_memory_fit.py [--fit 24] [--check 24]

The column is exact on ``fit + check`` sampled cells and a least-squares fit on op counts
elsewhere; this reports the fit's relative error on the ``check`` held-out cells at the
objective's default setting (C=16, N=5, batch 64, SGD with momentum, 32x32 inputs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nasfast.bench.environment import environment
from nasfast.hardware import spaces
from nasfast.hardware.nb201_train_memory import nb201_training_memory
from nasfast.hardware.workspace import Workspaces
from nasfast.tabular.protocol import write_json


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit", type=int, default=24)
    ap.add_argument("--check", type=int, default=24)
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    cfg = spaces.space_config("nb201", batch=64)
    values, report = nb201_training_memory(
        cfg, workspaces=Workspaces("cpu"), fit=args.fit, check=args.check, seed=1
    )
    report["range_mb"] = [float(values.min() / 2**20), float(values.max() / 2**20)]
    print(report)
    write_json(
        Path(args.out) / "hardware_train_memory_fit.json",
        {"environment": environment(), "space": cfg, "report": report},
    )


if __name__ == "__main__":
    main()
