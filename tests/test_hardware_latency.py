import numpy as np
import pytest
import torch
from hardware_helpers import TINY_NB201, tiny_nb201_table
from torch import nn

from nasfast.hardware import spaces
from nasfast.hardware.latency import LatencyPredictor
from nasfast.hardware.table import LatencyTable, device_info
from nasfast.hardware.timing import TimingSettings
from nasfast.hardware.trace import TensorSpec, trace_forward

FAST = TimingSettings(warmup=1, rounds=3, sample_ms=0.05)


def synthetic_table(net: nn.Module, shape, latency_of) -> LatencyTable:
    """A table whose op latencies are known: ``latency_of(key)`` ms per distinct call."""
    keys = {c.key for c in trace_forward(net, shape).calls}
    ops = {k: {"ms": latency_of(k)} for k in keys}
    return LatencyTable(device_info("cpu", 1), FAST, ops=ops)


def known_ms(key: str) -> float:
    return {"aten.convolution": 2.0, "aten.relu": 0.5, "aten.add": 0.25}.get(
        key.split(".")[0] + "." + key.split(".")[1], 0.125
    )


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.conv(x)) + x


def test_prediction_is_the_sum_of_known_op_latencies():
    net = nn.Sequential(Residual(), Residual())
    table = synthetic_table(net, (1, 3, 4, 4), known_ms)
    # two blocks of conv (2.0) + relu (0.5) + add (0.25)
    assert LatencyPredictor(table).predict(net, (1, 3, 4, 4)) == pytest.approx(2 * 2.75)


class ThreeAdds(nn.Module):
    def forward(self, x):
        return x + x + x + x


def mixed(residuals: int, identities: int, adds: int) -> nn.Module:
    return nn.Sequential(
        *[Residual() for _ in range(residuals)],
        *[nn.Identity() for _ in range(identities)],
        *[ThreeAdds() for _ in range(adds)],
    )


def test_calibration_recovers_a_known_correction():
    table = synthetic_table(mixed(1, 0, 1), (1, 3, 4, 4), known_ms)
    pred = LatencyPredictor(table)
    nets = [mixed(*c) for c in ((1, 0, 0), (2, 3, 0), (1, 1, 2), (3, 0, 1), (1, 5, 5))]
    X = np.stack([pred.features(n, (1, 3, 4, 4)) for n in nets])
    true = np.array([1.5, 0.01, 0.02, 0.3])
    cal = pred.calibrate(X, X @ true)
    assert np.allclose(cal["coef"], true, atol=1e-9)
    assert cal["fit_within_10pct"] == 1.0
    big = mixed(4, 2, 3)
    assert pred.predict(big, (1, 3, 4, 4)) == pytest.approx(pred.features(big, (1, 3, 4, 4)) @ true)


def test_missing_op_error_or_profile():
    table = synthetic_table(nn.Sequential(Residual()), (1, 3, 4, 4), known_ms)
    other = nn.Sequential(nn.Conv2d(3, 5, 1))
    with pytest.raises(ValueError, match="no entry for aten.convolution"):
        LatencyPredictor(table).predict(other, (1, 3, 4, 4))
    n_before = len(table.ops)
    ms = LatencyPredictor(table, missing="profile").predict(other, (1, 3, 4, 4))
    assert len(table.ops) > n_before and ms > 0


def test_calibrate_rejects_bad_measurements():
    table = synthetic_table(nn.Sequential(Residual()), (1, 3, 4, 4), known_ms)
    pred = LatencyPredictor(table)
    with pytest.raises(ValueError, match="measured_ms"):
        pred.calibrate(np.ones((3, 4)), [1.0, 2.0])
    with pytest.raises(ValueError, match="measured_ms"):
        pred.calibrate(np.ones((2, 4)), [1.0, -2.0])
    with pytest.raises(ValueError, match="missing"):
        LatencyPredictor(table, missing="guess")


def test_trace_keys_name_shapes_and_strides():
    x = torch.randn(1, 3, 6, 6)[:, :, 1:, 1:]
    calls = trace_forward(nn.ReLU(), (x,)).calls
    assert len(calls) == 1
    assert calls[0].key == "aten.relu.default(f32[1,3,5,5]s(108,36,6,1)+7)"
    (arg,), _ = calls[0].inputs("cpu")
    assert arg.stride() == (108, 36, 6, 1) and arg.storage_offset() == 7


def test_tensor_spec_materializes_its_layout():
    spec = TensorSpec((2, 3), (1, 2), 0, torch.float64)
    t = spec.materialize("cpu")
    assert t.shape == (2, 3) and t.stride() == (1, 2) and t.dtype == torch.float64


def test_space_networks_build_and_cover(tmp_path):
    cfg = spaces.space_config("nb201", C=2, N=1, image=[3, 8, 8])
    covering = {
        c.key
        for a in spaces.covering_archs(cfg)
        for c in trace_forward(spaces.build_network(cfg, a), spaces.input_shape(cfg)).calls
    }
    rng = np.random.default_rng(0)
    for _ in range(2):
        net = spaces.build_network(cfg, spaces.random_arch(cfg, rng))
        assert {c.key for c in trace_forward(net, spaces.input_shape(cfg)).calls} <= covering
    with pytest.raises(ValueError, match="space: expected one of"):
        spaces.space_config("mobilenet")
    with pytest.raises(ValueError, match="C: expected an int >= 1"):
        spaces.space_config("nb201", C=0)


def test_darts_space_covering_archs_cover_random_genotypes():
    cfg = spaces.space_config("darts", C=2, layers=3, image=[3, 8, 8])
    covering = {
        c.key
        for a in spaces.covering_archs(cfg)
        for c in trace_forward(spaces.build_network(cfg, a), spaces.input_shape(cfg)).calls
    }
    rng = np.random.default_rng(1)
    for _ in range(1):
        net = spaces.build_network(cfg, spaces.random_arch(cfg, rng))
        assert {c.key for c in trace_forward(net, spaces.input_shape(cfg)).calls} <= covering


def test_predict_an_arch_of_the_tables_space():
    table = tiny_nb201_table()
    assert table.space == TINY_NB201 and table.calibration["networks"] == 3
    pred = LatencyPredictor(table)
    by_arch = pred.predict((3, 3, 1, 0, 2, 4))
    by_str = pred.predict(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|"
    )
    assert by_arch == pytest.approx(by_str) and by_arch > 0
