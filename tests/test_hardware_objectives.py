import numpy as np
import pytest
from hardware_helpers import FAST, TINY_NB201, tiny_nb201_table

from nasfast.cli.main import main
from nasfast.hardware import objectives, spaces
from nasfast.hardware.latency import LatencyPredictor
from nasfast.hardware.memory import inference_memory
from nasfast.hardware.nb201_latency import nb201_latency
from nasfast.hardware.nb201_train_memory import nb201_training_memory
from nasfast.hardware.table import LatencyTable
from nasfast.hardware.workspace import Workspaces
from nasfast.tabular.nb201 import NB201Table
from nasfast.tabular.protocol import make_benchmark

TINY = TINY_NB201
CANDS = [(3, 3, 1, 0, 2, 4), (1, 1, 1, 1, 1, 1), (0, 2, 4, 3, 1, 0)]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture()
def tiny_space(monkeypatch, cache_dir):
    monkeypatch.setenv("NASFAST_CACHE_DIR", cache_dir)
    monkeypatch.setattr(objectives, "nb201_space_config", lambda dataset="cifar10": dict(TINY))
    table = NB201Table.load()
    saved = (dict(table.columns), list(table.devices), dict(table.__dict__))
    yield
    table.columns.clear()
    table.columns.update(saved[0])
    table.devices[:] = saved[1]
    table.__dict__.pop("hardware_dataset", None)


@pytest.fixture(scope="module")
def tiny_table_path(tmp_path_factory):
    return str(tiny_nb201_table().save(tmp_path_factory.mktemp("profile") / "tiny.json"))


def test_latency_profile_file_is_an_nb201_objective(tiny_space, tiny_table_path):
    bench = make_benchmark("cifar10", ["accuracy", f"latency:{tiny_table_path}"])
    assert not bench.specs[1].maximize
    got = [r[f"latency:{tiny_table_path}"] for r in bench(CANDS)]
    predictor = LatencyPredictor(LatencyTable.load(tiny_table_path), missing="profile")
    assert got == pytest.approx([predictor.predict(c) for c in CANDS])
    assert len(bench.exact_front()) >= 1


def test_memory_objective_at_a_batch(tiny_space):
    bench = make_benchmark("cifar10", ["accuracy", "memory:2"])
    assert not bench.specs[1].maximize
    cfg = dict(TINY, batch=2)
    ws = Workspaces("cpu")
    want = [
        inference_memory(spaces.build_network(cfg, c), spaces.input_shape(cfg), ws).peak / 2**20
        for c in CANDS[:2]
    ]
    assert [r["memory:2"] for r in bench(CANDS[:2])] == pytest.approx(want)


def test_host_latency_is_profiled_once_and_cached(tiny_space, monkeypatch, tmp_path):
    monkeypatch.setenv("NASFAST_CACHE_DIR", str(tmp_path))
    import nasfast.hardware.space_profile as sp

    calls = []
    real = sp.profile_space

    def fast_profile(cfg, **kw):
        calls.append(cfg)
        return real(cfg, settings=FAST, calibration_networks=0)

    monkeypatch.setattr(sp, "profile_space", fast_profile)
    first = objectives.nb201_column("latency:host", TINY)
    second = objectives.nb201_column("latency:host", TINY)
    assert len(calls) == 1 and np.array_equal(first, second) and first.shape == (15625,)
    assert objectives.host_table_path(TINY).is_file()


def test_cli_search_over_three_objectives_plots_pairwise_fronts(tiny_space, tmp_path, capsys):
    out = tmp_path / "run"
    objectives_flag = ["--objectives", "accuracy,params,memory:2"]
    rc = main(["search", "nsga2", *objectives_flag, "--budget", "20", "--out", str(out), "--quiet"])
    assert rc == 0 and "hypervolume" in capsys.readouterr().out
    assert (out / "front_pairs.png").stat().st_size > 10_000


def test_bad_hardware_objectives_are_one_line_errors(tiny_space, tmp_path):
    with pytest.raises(ValueError, match="memory:BATCH with BATCH an int >= 1"):
        make_benchmark("cifar10", ["accuracy", "memory:0"])
    with pytest.raises(ValueError, match="profile: cannot read"):
        make_benchmark("cifar10", ["accuracy", f"latency:{tmp_path / 'none.json'}"])


def test_nb201_latency_fast_path_equals_the_predictor(tiny_table_path):
    predictor = LatencyPredictor(LatencyTable.load(tiny_table_path), missing="profile")
    fast = nb201_latency(predictor, np.array(CANDS))
    assert fast == pytest.approx([predictor.predict(c) for c in CANDS], rel=1e-12)


def test_nb201_train_memory_fit_recovers_two_linear_phases(monkeypatch):
    import nasfast.hardware.nb201_train_memory as ntm
    from nasfast.hardware.memory import MemoryEstimate

    # per phase: a constant and a weight per edge running ops 1..4; the peak is the larger
    backward = np.array([1000.0, 7.0, 300.0, 900.0, 50.0])
    step = np.array([1500.0, 0.0, 100.0, 1200.0, 0.0])

    def fake(net, shape, optimizer, workspaces=None):
        x = np.array([1, *[sum(int(a == o) for a in net.arch) for o in range(1, 5)]])
        phases = {"forward_backward": int(backward @ x), "optimizer_step": int(step @ x)}
        return MemoryEstimate(max(phases.values()), 0, 0, 0, phases=phases)

    monkeypatch.setattr(ntm, "training_memory", fake)
    values, report = nb201_training_memory(TINY, fit=8, check=4, seed=3)
    X = ntm.op_counts(ntm.all_archs())
    law = np.maximum(X @ backward, X @ step)
    assert values.shape == (15625,) and np.abs(values - law).max() <= 1
    assert (X @ step > X @ backward).any() and (X @ step < X @ backward).any()
    assert report["fitted"] == 8 and report["checked"] == 4 and report["max_rel_error"] < 1e-6


def test_profile_cli_writes_a_table_and_predicts(tmp_path, capsys):
    out = tmp_path / "t.json"
    flags = ["--channels", "2", "--cells", "1", "--image", "3x8x8", "--rounds", "2"]
    assert main(["profile", *flags, "--warmup", "1", "--calibrate", "0", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert LatencyTable.load(out).space == TINY
    assert main(["profile", "--table", str(out), "--arch", "012341"]) == 0
    line = capsys.readouterr().out
    assert "latency" in line and "inference" in line and "training" in line
    assert main(["profile", "--table", str(out), "--arch", "conv"]) == 2
    assert capsys.readouterr().err.count("--arch: ") == 1


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--threads", "0"], "--threads: expected an int >= 1"),
        (["--image", "3x8"], "--image: expected CxHxW"),
        (["--space", "vit"], "--space: expected one of nb201, darts"),
        (["--rounds", "0"], "--rounds: expected an int >= 1"),
        (["--statistic", "mean"], "--statistic: expected one of"),
        (["--calibrate", "1"], "--calibrate: expected 0 or an int >= 2"),
        (["--cells", "0"], "--cells: expected an int >= 1"),
        (["--space", "darts", "--cells", "2"], "--cells: the darts space has --layers"),
        (["--device", "cuda:7"] if True else [], "--device"),
        (["--table", "missing.json", "--arch", "012341"], "profile: cannot read"),
    ],
)
def test_profile_cli_bad_flags_are_one_line_errors(tmp_path, capsys, flags, fragment):
    assert main(["profile", "--out", str(tmp_path / "x.json"), *flags]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_darts_profile_feeds_the_cost_aware_loss(tmp_path, capsys, monkeypatch):
    import nasfast.hardware.space_profile as sp
    from nasfast.hardware.table import device_info

    # the space's covering networks are profiled elsewhere; here an empty table fills itself
    monkeypatch.setattr(
        sp, "profile_space", lambda cfg, **kw: LatencyTable(device_info("cpu", 1), FAST, space=cfg)
    )
    import torch

    from nasfast.hardware.spaces import _darts

    try:
        from nasfast.darts.costs import edge_costs
        from nasfast.darts.network import SearchNetwork
    except ImportError:
        from nasfast.darts.costs import edge_costs
        from nasfast.darts.network import SearchNetwork
    assert _darts()
    out = tmp_path / "darts.json"
    flags = ["--space", "darts", "--channels", "2", "--layers", "3", "--image", "3x4x4"]
    fast = ["--rounds", "1", "--warmup", "0", "--calibrate", "0"]
    assert main(["profile", *flags, *fast, "--out", str(out)]) == 0
    capsys.readouterr()
    edges = LatencyTable.load(out).extra["darts_costs"]["edges"]
    net = SearchNetwork(2, 10, 3, image_size=(4, 4), backend="reference")
    costs = edge_costs(net, "latency", str(out))
    assert costs.shape == (2, 14, 8) and bool((costs > 0).any())
    # the normal cells' first edge: the sum of its cells' exact per-shape costs
    C, H, W, s = net.edge_input_sizes()[0][0]
    n_normal = sum(not c.reduction for c in net.cells)
    want = n_normal * edges[f"{C},{H},{W},{s}"]["sep_conv_3x3"]
    assert float(costs[0, 0, 4]) == pytest.approx(want, rel=1e-5)
    assert torch.isfinite(costs).all()
