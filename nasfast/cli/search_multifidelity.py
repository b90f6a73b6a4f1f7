"""``nasfast search {sh,hyperband,asha,bohb} --benchmark nb201 --budget EPOCHS ...``.

Multi-fidelity search on the NAS-Bench-201 table: a look at 12 epochs costs 12 epochs, a full
training 200 (the table's two fidelities); the budget is in epochs. Reports the 200-epoch
accuracy of the best cell trained to 200 epochs and the epochs spent.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from nasfast.cli.errors import one_line_errors

SCHEDULER_HELP = {
    "sh": "successive halving (Jamieson and Talwalkar 2016)",
    "hyperband": "Hyperband (Li et al. 2018)",
    "asha": "asynchronous successive halving (Li et al. 2020)",
    "bohb": "BOHB-style: Hyperband with TPE proposals (Falkner et al. 2018)",
}


def register(strategies: argparse._SubParsersAction) -> None:
    for name, help_ in SCHEDULER_HELP.items():
        p = strategies.add_parser(name, help=f"{help_}: multi-fidelity, budget in epochs")
        one_line_errors(p)
        p.add_argument("--benchmark", default="nb201", help="tabular benchmark: nb201 (default)")
        p.add_argument("--dataset", default="cifar10", help="cifar10 | cifar100 | imagenet16")
        p.add_argument("--budget", default="20000", help="training epochs per run (default 20000)")
        p.add_argument(
            "--fidelity",
            default="12,200",
            help="epochs of the rungs: 12,200 (default, the table's two) or 200 (full only)",
        )
        p.add_argument("--eta", default="10", help="reduction factor between rungs (default 10)")
        if name != "bohb":
            p.add_argument(
                "--sampler",
                default="rea",
                help="who proposes new cells: rea (default), random, bo, local, reinforce",
            )
        g = p.add_mutually_exclusive_group()
        g.add_argument("--seeds", default=None, help="run seeds 0..S-1")
        g.add_argument("--seed", default=None, help="run this one seed (default 0)")
        p.add_argument("--table", default=None, help="path to another copy of nb201_merged.csv.gz")
        p.add_argument("--out", default=None, help=f"output folder (default runs/{name}-nb201)")
        p.add_argument(
            "--checkpoint",
            action="store_true",
            help="keep OUT/checkpoint-seedS.json after every batch; a rerun resumes from it",
        )
        p.add_argument("--progress", action="store_true", help="progress bar: epochs, rung state")
        p.add_argument("--quiet", action="store_true", help="print only the summary line")
        p.set_defaults(func=run, scheduler_name=name)


def _number(text: str, what: str, lo: float, kind=float):
    try:
        v = kind(str(text))
    except ValueError:
        raise ValueError(f"{what}: expected a number, got {text!r}") from None
    if not v > lo:
        raise ValueError(f"{what}: expected a number > {lo:g}, got {text}")
    return v


def fidelity_of(text: str):
    from nasfast.search.multifidelity import NB201_FIDELITY, Fidelity

    levels = text.replace(" ", "")
    if levels == "12,200":
        return NB201_FIDELITY
    if levels == "200":
        return Fidelity("epochs", 200, 200, levels=(200,), continues=False)
    raise ValueError(f"--fidelity: expected 12,200 or 200 (the table's epochs), got {text!r}")


def run(args: argparse.Namespace) -> int:
    from nasfast._atomic import write_json
    from nasfast.cli.search_nb201 import seeds_of
    from nasfast.search.multifidelity import make_scheduler, minimize_multifidelity, nb201_problem
    from nasfast.search.multifidelity.problem import MultiFidelityProblem

    if args.benchmark != "nb201":
        raise ValueError(f"--benchmark: expected nb201, got {args.benchmark!r}")
    budget = _number(args.budget, "--budget", 0)
    eta = _number(args.eta, "--eta", 1)
    fid = fidelity_of(args.fidelity)
    seeds = seeds_of(args)
    kwargs = {"eta": eta}
    if args.scheduler_name != "bohb":
        kwargs["sampler"] = args.sampler
    out = Path(args.out or f"runs/{args.scheduler_name}-nb201")
    runs, lines = [], []
    for seed in seeds:
        base = nb201_problem(args.dataset, args.table)
        problem = MultiFidelityProblem(
            base.space, base.objective_at, base.objectives, fid, batched=True,
            describe=base.describe,
        )  # fmt: skip
        sched = make_scheduler(args.scheduler_name, **kwargs)
        ck = out / f"checkpoint-seed{seed}.json" if args.checkpoint else None
        res = minimize_multifidelity(
            problem, sched, budget, seed=seed, progress=args.progress, checkpoint=ck
        )
        runs.append(run_dict(res, seed))
        r = runs[-1]
        if not args.quiet:
            lines.append(
                f"seed {seed}: {r['best_arch']}  final_acc {r['final_acc']:.2f}  "
                f"({r['epochs_spent']:.0f} epochs: {r['looks']})"
            )
    write_json(
        out / "results.json",
        {
            "benchmark": "nb201",
            "dataset": args.dataset,
            "scheduler": args.scheduler_name,
            "settings": {k: v for k, v in kwargs.items()},
            "fidelity_epochs": list(fid.levels or ()),
            "budget_epochs": budget,
            "runs": runs,
        },
    )
    finals = np.array([r["final_acc"] for r in runs])
    lines.append(
        f"{args.scheduler_name} on nb201/{args.dataset}, {budget:g} epochs, {len(seeds)} seed(s): "
        f"200-epoch accuracy of the best found {finals.mean():.2f} +- {finals.std():.2f}; "
        f"wrote {out / 'results.json'}"
    )
    print("\n".join(lines))
    return 0


def run_dict(res, seed: int) -> dict:
    if not res.history:
        raise ValueError(
            f"--budget: {res.spent:g} epochs were spent without any cell reaching 200 epochs; "
            "give a larger budget"
        )
    best = res.best
    looks: dict[float, int] = {}
    for t in res.trials:
        looks[t.budget] = looks.get(t.budget, 0) + 1
    units, acc = res.incumbent_trace()
    return {
        "seed": seed,
        "best_arch": res.problem.describe(best.candidate),
        "best_index": best.metrics["index"],
        "final_acc": best.metrics["final_acc"],
        "epochs_spent": res.spent,
        "stopped": res.stopped,
        "looks": ", ".join(f"{n} at {b:g}" for b, n in sorted(looks.items())),
        "incumbent_trace": [[float(u), float(a)] for u, a in zip(units, acc, strict=True)],
    }
