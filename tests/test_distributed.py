"""Data-parallel DARTS search and supernet training: 2 gloo processes on 127.0.0.1 compute what
one process computes with the same global batch cut into the same shards."""

from __future__ import annotations

import json
import multiprocessing

import pytest
import torch
import torch.multiprocessing as mp
from darts_helpers import cli_error, one_thread, write_tiny_npz  # noqa: F401
from distributed_helpers import (
    SUPERNET_STEPS,
    all_work,
    rank_one_fails,
    run_ranks,
    tiny_supernet,
    tiny_supernet_data,
)

from nasfast.cli.main import build_parser
from nasfast.cli.search_darts import config_from_args
from nasfast.darts.genotype import Genotype
from nasfast.darts.search import DartsSearch
from nasfast.datasets import load_images
from nasfast.distributed import DataParallel, init_from_environment, run_local
from nasfast.oneshot import train_supernet

TOL = dict(rtol=1e-5, atol=1e-6)


def _common(npz: str) -> list[str]:
    return [
        "search",
        "darts",
        "--dataset",
        npz,
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--channels",
        "2",
        "--layers",
        "3",
        "--arch-lr",
        "0.05",
        "--seed",
        "3",
        "--no-progress",
    ]


HYBRID = "search hybrid --C 2 --steps 2 --batch-size 8 --budget 8 --generation 4 --val-images 12"
HYBRID = [*HYBRID.split(), "--objectives", "accuracy,params", "--no-plots", "--quiet"]
VARIANTS = {"second": ["--order", "second"], "gumbel": ["--sampler", "gumbel"]}


def _single_process(npz: str, argv: list[str], out, shards: int | None) -> DartsSearch:
    args = build_parser().parse_args([*argv, "--out", str(out)])
    args.batch_shards = shards
    search = DartsSearch(config_from_args(args), load_images(npz), str(out), progress=False)
    search.run(plots=False)
    return search


def _alphas(state: dict) -> list[torch.Tensor]:
    return [state["alphas_normal"], state["alphas_reduce"]]


def _metrics(path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for r in rows:
        r.pop("elapsed_s")
        r.pop("step_s")
    return rows


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """One 2-process launch doing every run the tests below check."""
    out = tmp_path_factory.mktemp("ranks")
    npz = write_tiny_npz(str(out / "tiny.npz"), n=48)  # 24 train / 24 val: 3 steps of 8
    runs = {}
    for name, extra in VARIANTS.items():
        base = [*_common(npz), *extra, "--out", str(out / name)]
        runs[name] = [base]
    # the second-order run stops after 2 steps and resumes: every process loads rank 0's checkpoint
    runs["second"] = [runs["second"][0] + ["--max-steps", "2"], runs["second"][0] + ["--resume"]]
    runs["hybrid"] = [[*HYBRID, "--data", npz, "--out", str(out / "hybrid")]]
    run_ranks(all_work, runs, out)
    return out, npz


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_two_processes_equal_one_process_with_the_same_shards(two_processes, tmp_path, variant):
    out, npz = two_processes
    argv = [*_common(npz), *VARIANTS[variant]]
    single = _single_process(npz, argv, tmp_path / "two-shards", shards=2)
    ck = torch.load(out / variant / "checkpoint.pt", weights_only=True)
    assert ck["step"] == single.total_steps == 3
    mine = [single.net.alphas_normal.detach(), single.net.alphas_reduce.detach()]
    for a, b in zip(_alphas(ck["net"]), mine, strict=True):
        torch.testing.assert_close(a, b, **TOL)
    for reduce in ("normal", "reduce"):  # the alphas moved: equality is no accident
        moved = single.history[-1][reduce] - single.history[0][reduce]
        assert float(moved.abs().max()) > 1e3 * TOL["atol"]
    weights = dict(single.net.named_parameters())
    for name, p in weights.items():
        torch.testing.assert_close(ck["net"][name], p.detach(), **TOL)
    got, want = Genotype.load(str(out / variant / "genotype.json")), single.genotype()
    assert (got.normal, got.reduce) == (want.normal, want.reduce)
    got, want = (
        _metrics(out / variant / "metrics.jsonl"),
        _metrics(tmp_path / "two-shards" / "metrics.jsonl"),
    )
    assert [r["step"] for r in got] == [0, 1, 2]
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(w, rel=1e-4, abs=1e-5)


def test_the_shards_matter_so_the_comparison_can_fail(two_processes, tmp_path):
    """One shard (BatchNorm over the whole batch) ends with other alphas than two."""
    out, npz = two_processes
    argv = [*_common(npz), *VARIANTS["second"]]
    whole = _single_process(npz, argv, tmp_path / "one-shard", shards=1)
    ck = torch.load(out / "second" / "checkpoint.pt", weights_only=True)
    for name, a in zip(("alphas_normal", "alphas_reduce"), _alphas(whole.net.state_dict())):
        assert float((ck["net"][name] - a).abs().max()) > 100 * TOL["atol"], name


def test_only_rank_zero_reports(two_processes):
    out, _ = two_processes
    text = (out / "second.rank0.out").read_text()
    assert "2 processes x 1 shards" in text and "search complete" in text
    assert (out / "second.rank1.out").read_text() == ""


def test_hybrid_search_under_two_processes_reports_once(two_processes):
    out, _ = two_processes
    res = json.loads((out / "hybrid" / "results.json").read_text())
    assert res["n_evals"] == 8 and (out / "hybrid" / "supernet.pt").exists()
    assert (out / "hybrid.rank0.out").read_text() and not (out / "hybrid.rank1.out").read_text()


def test_supernet_two_processes_equal_one_process_with_two_shards(two_processes):
    out, _ = two_processes
    x, y = tiny_supernet_data()
    net = tiny_supernet(seed=0)
    losses = train_supernet(net, x, y, **SUPERNET_STEPS, batch_shards=2)
    ranks = [torch.load(out / f"supernet.rank{r}.pt", weights_only=True) for r in (0, 1)]
    for r in ranks:
        assert r["losses"] == pytest.approx(losses, rel=1e-5)
        for name, p in net.named_parameters():
            torch.testing.assert_close(r["net"][name], p.detach(), **TOL)


def test_ddp_works_with_the_fused_edge(two_processes):
    out, _ = two_processes
    assert all((out / f"ddp.rank{r}.ok").exists() for r in (0, 1))


def test_a_failing_process_fails_the_launch_and_none_is_left():
    with pytest.raises(mp.ProcessRaisedException, match="rank 1 failed on purpose"):
        run_local(rank_one_fails, world=2, timeout=120)
    assert multiprocessing.active_children() == []


# -- one process ----------------------------------------------------------------------------
def test_one_process_without_torchrun_starts_nothing(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert init_from_environment("cpu") == "cpu"
    assert not torch.distributed.is_initialized()
    dp = DataParallel()
    assert (dp.world_size, dp.rank, dp.shards, dp.is_main) == (1, 0, 1, True)


def test_shards_split_the_batch_and_start_from_the_same_random_state():
    gen = torch.Generator().manual_seed(1)
    dp = DataParallel(2, generators=[gen])
    x = torch.arange(6.0)
    draws = []
    for (xs,) in dp.split(x):
        draws.append((xs.tolist(), float(torch.rand(1, generator=gen)), float(torch.rand(1))))
    assert [d[0] for d in draws] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert draws[0][1:] == draws[1][1:]
    g = [torch.tensor([2.0, 4.0])]
    dp.mean_over_shards_(g)
    assert g[0].tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "shards, batch, match",
    [(0, 8, "^batch_shards: expected a positive integer"), (3, 8, "^batch_size: expected a mul")],
)
def test_bad_shards(shards, batch, match):
    x, y = tiny_supernet_data()
    with pytest.raises(ValueError, match=match):
        train_supernet(tiny_supernet(), x, y, steps=1, batch_size=batch, batch_shards=shards)


def test_cli_names_the_flag(capsys, tmp_path):
    npz = write_tiny_npz(str(tmp_path / "tiny.npz"))
    err = cli_error(capsys, [*_common(npz), "--batch-shards", "3", "--out", str(tmp_path)])
    assert "--batch-size: expected a multiple of batch_shards=3" in err
