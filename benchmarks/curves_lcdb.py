"""Extrapolation to the last anchor on LCDB curves: which family ranks best (a report, not a test).

    PYTHONPATH=. python benchmarks/curves_lcdb.py [--curves 150] [--source lcdb|subset|PATH]

Protocol after Mohr et al. 2022 (LCDB 1.0, ECML PKDD): each family (and nasfast's ensemble) is
fitted on the first part of a curve (a share of its anchors) and predicts the score at the last
anchor; per (curve, share) the models are ranked by squared error (ties share a rank); the mean
rank over all of them is reported, overall and split at 80% of the curve seen. Predictions are
clipped to [0, 1] for every model alike. Paper's ranking (16 models): mmf4 best (mean rank 5.82),
then last1, wbl4, pow4, exp4, pow3; the 2-parameter exp and linear models worst; the last value
best once 80% of the curve is seen.

``--source lcdb`` (default) reads every curve of the installed ``lcdb`` package and draws
``--curves`` of them (seeded); ``subset`` uses the curves shipped with nasfast; a PATH reads a
curve set saved by :func:`nasfast.estimate.curves.data.save_curves` (e.g. the Fashion-MNIST
epoch curves). Writes ``benchmarks/results/curves_<name>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nasfast._atomic import write_json  # noqa: E402
from nasfast.bench.environment import environment  # noqa: E402
from nasfast.estimate.curves import FAMILIES, CurveEnsemble, fit_curve  # noqa: E402
from nasfast.estimate.curves.data import LearningCurve, load_curves  # noqa: E402

SHARES = (0.3, 0.5, 0.7, 0.8, 0.9)
PAPER_ORDER = ["mmf4", "last_value", "wbl4", "pow4", "exp4", "pow3"]


def curves_of(source: str, n: int, seed: int) -> tuple[list[LearningCurve], str, tuple]:
    if source == "lcdb":
        from lcdb_curves import read_lcdb_curves

        curves = read_lcdb_curves()
        pick = np.random.default_rng(seed).choice(
            len(curves), size=min(n, len(curves)), replace=False
        )
        return [curves[i] for i in sorted(pick)], "lcdb", (0.0, 1.0)
    cs = load_curves("lcdb_subset" if source == "subset" else source)
    limits = tuple(cs.meta.get("limits", (0.0, 1.0)))
    name = "lcdb_subset" if source == "subset" else Path(source).stem
    return cs.curves[:n], name, limits


def score_curve(c: LearningCurve, share: float, limits: tuple, ensemble: CurveEnsemble) -> dict:
    n_seen = max(5, int(round(share * (len(c.x) - 1))))
    n_seen = min(n_seen, len(c.x) - 1)
    x, y, target, truth = c.x[:n_seen], c.y[:n_seen], c.x[-1], c.y[-1]
    lo, hi = limits
    span = hi - lo
    err = {}
    for name in FAMILIES:
        fit = fit_curve(x, (y - lo) / span, name)
        pred = lo + span * float(np.clip(fit.predict(target), 0.0, 1.0))
        err[name] = (pred - truth) ** 2 if np.isfinite(pred) else np.inf
    p = ensemble.fit(x, y).predict(target, level=0.9)
    err["ensemble"] = (float(p.mean[0]) - truth) ** 2
    inside = bool(p.lower[0] <= truth <= p.upper[0])
    return {"share": share, "n_seen": n_seen, "err": err, "band_covers": inside}


def summarize(rows: list[dict], models: list[str]) -> dict:
    E = np.array([[r["err"][m] for m in models] for r in rows])
    R = np.array([rankdata(e) for e in E])
    share = np.array([r["share"] for r in rows])
    out = {}
    for label, mask in (
        ("all", np.ones(len(rows), bool)),
        ("seen_below_80pct", share < 0.8),
        ("seen_80pct_or_more", share >= 0.8),
    ):
        if not mask.any():
            continue
        mr = R[mask].mean(0)
        order = np.argsort(mr)
        out[label] = {
            "n": int(mask.sum()),
            "mean_rank": {models[i]: float(mr[i]) for i in order},
            "median_sq_error": {models[i]: float(np.median(E[mask, i])) for i in order},
        }
    out["band_coverage_90"] = float(np.mean([r["band_covers"] for r in rows]))
    return out


def markdown(res: dict) -> str:
    s = res["summary"]
    lines = [
        f"# Learning-curve extrapolation on {res['source']} curves",
        "",
        f"{res['n_curves']} curves x shares {list(res['shares'])} of the anchors seen; "
        "target: the score at the last anchor. Mean rank by squared error among "
        f"{len(res['models'])} models (1 = best). Rerun: `{res['command']}`.",
        f"Machine: {res['environment']['cpu']}, commit {res['environment']['commit']}; "
        f"{res['seconds']:.0f} s.",
        "",
        "| model | mean rank (all) | < 80% seen | >= 80% seen | median sq. error (all) |",
        "| --- | --- | --- | --- | --- |",
    ]
    a = s["all"]
    for m in a["mean_rank"]:
        lo = s.get("seen_below_80pct", {}).get("mean_rank", {}).get(m, float("nan"))
        hi = s.get("seen_80pct_or_more", {}).get("mean_rank", {}).get(m, float("nan"))
        lines.append(
            f"| {m} | {a['mean_rank'][m]:.2f} | {lo:.2f} | {hi:.2f} | "
            f"{a['median_sq_error'][m]:.2e} |"
        )
    best_hi = next(iter(s.get("seen_80pct_or_more", {}).get("mean_rank", {"-": 0})))
    singles = [m for m in a["mean_rank"] if m != "ensemble"]
    lines += [
        "",
        f"- Ensemble mean rank {a['mean_rank']['ensemble']:.2f} vs best single family "
        f"{singles[0]} {a['mean_rank'][singles[0]]:.2f} (target: ensemble better than every "
        "single family).",
        "- Order of the paper's top six here: "
        + ", ".join(f"{m} {a['mean_rank'][m]:.2f}" for m in PAPER_ORDER)
        + " (paper: mmf4 best, then last1, wbl4, pow4, exp4, pow3; exp2 and lin2 worst).",
        f"- Best with >= 80% of the curve seen: {best_hi} (paper: last value).",
        f"- 90% band of the ensemble covers the truth in {100 * s['band_coverage_90']:.1f}% of "
        "the cases.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default="lcdb")
    ap.add_argument("--curves", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    curves, name, limits = curves_of(args.source, args.curves, args.seed)
    ensemble = CurveEnsemble(limits=limits)
    models = [*FAMILIES, "ensemble"]
    t0 = time.perf_counter()
    rows = []
    for c in tqdm(curves, desc=name):
        for share in SHARES:
            rows.append({"curve": c.name, **score_curve(c, share, limits, ensemble)})
    res = {
        "environment": environment(),
        "command": "PYTHONPATH=. python " + " ".join(sys.argv),
        "source": name,
        "n_curves": len(curves),
        "shares": SHARES,
        "models": models,
        "seconds": time.perf_counter() - t0,
        "summary": summarize(rows, models),
        "rows": rows,
    }
    out = Path(args.out)
    write_json(out / f"curves_{name}.json", res)
    (out / f"curves_{name}.md").write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
