"""A few hundred generated bad command lines: each one either exits with status 2 and one line
naming the flag it got wrong, or is a run that completes (status 0). Values that can never be
right (NaN, infinities, text where a number belongs, fractions where a count belongs) must be
refused. The training loops are replaced by no-ops (every check before and after them runs)."""

from __future__ import annotations

import itertools
import json

import pytest
import torch
from darts_helpers import one_thread, write_tiny_npz  # noqa: F401

from nasfast.cli.main import main
from nasfast.darts import plots as darts_plots
from nasfast.darts.search import DartsSearch
from nasfast.darts.train import TrainRun

NEVER_A_FLOAT = ["nan", "inf", "-inf", "NaN", "abc", "", "1e400"]
NEVER_A_COUNT = ["1.5", "abc", "nan", "-5", "", "1e3"]
MAYBE = ["0", "-1", "2"]

SEARCH_FLOATS = [
    "--lr",
    "--lr-min",
    "--momentum",
    "--weight-decay",
    "--grad-clip",
    "--arch-lr",
    "--arch-weight-decay",
    "--tau-max",
    "--tau-min",
    "--complexity-weight",
]
SEARCH_COUNTS = [
    "--epochs",
    "--batch-size",
    "--channels",
    "--layers",
    "--seed",
    "--max-steps",
    "--warmup-epochs",
    "--max-skips",
    "--partial-channels",
    "--checkpoint-every",
    "--time-backends",
    "--threads",
    "--train-images",
]
TRAIN_FLOATS = [
    "--lr",
    "--momentum",
    "--weight-decay",
    "--grad-clip",
    "--drop-path",
    "--auxiliary-weight",
]
TRAIN_COUNTS = [
    "--epochs",
    "--batch-size",
    "--channels",
    "--layers",
    "--seed",
    "--max-steps",
    "--cutout-length",
    "--checkpoint-every",
    "--threads",
    "--train-images",
]
HYBRID_FLOATS = ["--lr"]
HYBRID_COUNTS = ["--budget", "--generation", "--pop-size", "--seed", "--channels", "--cells",
                 "--steps", "--batch-size", "--paths", "--train-images", "--val-images",
                 "--darts-steps"]  # fmt: skip
CHOICES = {  # a flag and a value outside its choices
    ("search", "darts"): [("--order", "third"), ("--sampler", "uniform"), ("--backend", "gpu"),
                          ("--complexity", "watts"), ("--device", "tpu"), ("--dataset", "nope")],
    ("train",): [("--device", "tpu"), ("--dataset", "nope")],
    ("search", "hybrid"): [("--algo", "ga"), ("--bn", "layer"), ("--dataset", "nope"),
                           ("--objectives", "speed"), ("--objectives", "params,accuracy")],
}  # fmt: skip


class _HybridReached(Exception):
    """The hybrid command got past its checks to the search (a correct run from there on)."""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    npz = write_tiny_npz(str(root / "tiny.npz"), n=40)
    genotype = root / "genotype.json"
    genotype.write_text(json.dumps({
        "normal": [["sep_conv_3x3", 0], ["skip_connect", 1]] * 4, "normal_concat": [2, 3, 4, 5],
        "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1]] * 4, "reduce_concat": [2, 3, 4, 5],
    }))  # fmt: skip
    return npz, str(genotype)


@pytest.fixture
def no_loops(monkeypatch):
    import nasfast.oneshot as oneshot

    monkeypatch.setattr(DartsSearch, "_loop", lambda self, *a: None)
    monkeypatch.setattr(TrainRun, "_loop", lambda self, *a: None)
    monkeypatch.setattr(darts_plots, "plot_alpha_history", lambda *a: [])
    monkeypatch.setattr(darts_plots, "plot_genotype", lambda *a: [])

    def reached(config, *a, **k):
        raise _HybridReached

    monkeypatch.setattr(oneshot, "run_hybrid", reached)


def _base(command: tuple[str, ...], files, out) -> list[str]:
    npz, genotype = files
    if command == ("search", "darts"):
        return ["search", "darts", "--dataset", npz, "--channels", "2", "--layers", "1",
                "--batch-size", "8", "--epochs", "1", "--backend", "reference", "--no-progress",
                "--order", "first", "--out", str(out)]  # fmt: skip
    if command == ("train",):
        return ["train", "--genotype", genotype, "--dataset", npz, "--channels", "2",
                "--layers", "2", "--batch-size", "8", "--epochs", "1", "--no-progress",
                "--out", str(out)]  # fmt: skip
    return ["search", "hybrid", "--dataset", npz, "--channels", "2", "--steps", "1",
            "--batch-size", "8", "--budget", "4", "--generation", "2", "--val-images", "8",
            "--no-plots", "--quiet", "--no-progress", "--out", str(out)]  # fmt: skip


def _cases() -> list[tuple[tuple[str, ...], str, str, bool]]:
    """(command, flag, value, must_refuse)."""
    cases = []
    for command, floats, counts in (
        (("search", "darts"), SEARCH_FLOATS, SEARCH_COUNTS),
        (("train",), TRAIN_FLOATS, TRAIN_COUNTS),
        (("search", "hybrid"), HYBRID_FLOATS, HYBRID_COUNTS),
    ):
        for flag, value in itertools.product(floats, NEVER_A_FLOAT):
            cases.append((command, flag, value, True))
        for flag, value in itertools.product(counts, NEVER_A_COUNT):
            cases.append((command, flag, value, True))
        for flag, value in itertools.product(floats + counts, MAYBE):
            cases.append((command, flag, value, False))
        for flag, value in CHOICES[command]:
            cases.append((command, flag, value, True))
    return cases


CASES = _cases()


def test_there_are_a_few_hundred_cases():
    assert len(CASES) >= 300


@pytest.mark.slow  # about 5 s: a few hundred in-process runs of the CLI
def test_bad_command_lines_fail_in_one_line_naming_the_flag(files, tmp_path, capsys, no_loops):
    outcomes = {"refused": 0, "ran": 0}
    for i, (command, flag, value, must_refuse) in enumerate(CASES):
        argv = [*_base(command, files, tmp_path / f"o{i}"), flag, value]
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse's own errors
            rc = exc.code
        except _HybridReached:
            rc = 0
        captured = capsys.readouterr()
        err = captured.err.strip().splitlines()
        what = f"{' '.join(command)} {flag} {value!r}"
        if rc == 0:
            assert not must_refuse, f"{what}: accepted"
            outcomes["ran"] += 1
            continue
        assert rc == 2, f"{what}: exit status {rc}: {captured.err}"
        assert len(err) == 1, f"{what}: {captured.err}"
        # a setting that conflicts with another one may be reported under the other's flag,
        # naming this one's parameter
        param = flag.lstrip("-").replace("-", "_")
        named = flag in err[0] or param in err[0] or (flag == "--dataset" and value in err[0])
        assert named, f"{what}: the message does not name {flag}: {err[0]}"
        outcomes["refused"] += 1
    assert outcomes["refused"] > 200 and outcomes["ran"] > 10  # both outcomes are exercised


def test_missing_and_wrong_files_name_their_flag(files, tmp_path, capsys, no_loops):
    npz, genotype = files
    not_json = tmp_path / "g.txt"
    not_json.write_text("{not json")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    cases = [
        (["train", "--genotype", str(tmp_path / "none.json"), "--dataset", npz], "--genotype"),
        (["train", "--genotype", str(not_json), "--dataset", npz], "--genotype"),
        (["train", "--genotype", genotype, "--dataset", str(tmp_path / "none.npz")], "--dataset"),
        ([*_base(("search", "darts"), files, a_file)], "--out"),
        (
            [
                *_base(("search", "darts"), files, tmp_path / "x"),
                "--complexity-weight",
                "1",
                "--cost-table",
                str(tmp_path / "none.json"),
            ],
            "--cost-table",
        ),  # fmt: skip
        ([*_base(("search", "darts"), files, tmp_path / "y"), "--resume"], "--resume"),
        ([*_base(("train",), files, tmp_path / "z"), "--resume"], "--resume"),
    ]
    for argv, flag in cases:
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and flag in err[0], (argv, err)
    assert torch.get_num_threads() == 1
