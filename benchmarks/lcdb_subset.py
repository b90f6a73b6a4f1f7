"""Write the LCDB subset shipped in ``nasfast/data/curves/lcdb_subset.npz``. Rerun:

PYTHONPATH=. python benchmarks/lcdb_subset.py [--n 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lcdb_curves import read_lcdb_curves  # noqa: E402

from nasfast.estimate.curves.data import save_curves, shipped_path  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    curves = read_lcdb_curves()
    pick = np.random.default_rng(args.seed).choice(len(curves), size=args.n, replace=False)
    subset = [curves[i] for i in sorted(pick)]
    meta = {
        "source": "LCDB 1.0 (Mohr, Viering, Loog, van Rijn, ECML PKDD 2022), pip package lcdb "
        "0.1.0, file database-accuracy.csv; MIT license (LICENSE-lcdb-MIT beside this file)",
        "curve": "validation accuracy (score_valid) per training-set size (anchor), mean over "
        "LCDB's outer and inner seeds; anchors reached by every seed only",
        "selection": f"{args.n} of the {len(curves)} curves with >= 8 such anchors, uniformly at "
        f"random (numpy seed {args.seed})",
        "x": "training-set size",
        "y": "accuracy in [0, 1]",
    }
    out = shipped_path("lcdb_subset")
    save_curves(out, subset, meta)
    print(f"wrote {len(subset)} curves to {out} ({out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
