import json

import pytest
from conftest import requires_cuda
from torch import nn

from nasfast.hardware.profile import profile_modules
from nasfast.hardware.table import FORMAT, LatencyTable
from nasfast.hardware.timing import TimingSettings, reject_outliers, summarize

FAST = TimingSettings(warmup=1, rounds=3, sample_ms=0.05)


@pytest.fixture(scope="module")
def tiny_table() -> LatencyTable:
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU())
    return profile_modules([(net, (1, 2, 5, 5))], threads=1, settings=FAST, space=None)


def test_profile_records_device_settings_and_ops(tiny_table):
    d = tiny_table.to_dict()
    assert d["format"] == FORMAT and d["device"]["type"] == "cpu"
    assert d["device"]["threads"] == 1
    assert d["settings"] == {**FAST.to_dict(), "clock": "thread"}  # auto on 1 CPU thread
    names = {k.split("(")[0] for k in d["ops"]}
    assert {"aten.convolution.default", "aten.relu.default"} <= names
    for entry in d["ops"].values():
        assert entry["n"] == 3 and entry["ms"] == entry["min"] > 0
        assert entry["min"] <= entry["median"]


def test_round_trip(tmp_path, tiny_table):
    path = tiny_table.save(tmp_path / "t.json")
    again = LatencyTable.load(path)
    assert again.to_dict() == tiny_table.to_dict()


def _write(tmp_path, d) -> str:
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(d))
    return str(p)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(format="other"), "not a latency table"),
        (lambda d: d.update(version=7), "expected version 1"),
        (lambda d: d.pop("device"), "'device'"),
        (lambda d: d["device"].update(type="tpu"), "device.type"),
        (lambda d: d["settings"].update(statistic="mean"), "bad settings"),
        (lambda d: d["settings"].update(rounds=0), "bad settings"),
        (lambda d: d["ops"].update(x={"ms": -1.0}), "needs a number ms >= 0"),
        (lambda d: d["ops"].update(x={"median": 1.0}), "needs a number ms >= 0"),
        (lambda d: d.update(calibration={"features": ["a"], "coef": []}), "calibration"),
        (lambda d: d.update(space=[1]), "'space'"),
    ],
)
def test_load_rejects_bad_tables_in_one_line(tmp_path, tiny_table, mutate, message):
    d = json.loads(json.dumps(tiny_table.to_dict()))
    mutate(d)
    with pytest.raises(ValueError, match=message) as exc:
        LatencyTable.load(_write(tmp_path, d))
    assert "\n" not in str(exc.value) and str(exc.value).startswith("profile: ")


def test_load_unreadable_or_not_json(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        LatencyTable.load(tmp_path / "absent.json")
    p = tmp_path / "x.json"
    p.write_text("{nope")
    with pytest.raises(ValueError, match="is not JSON"):
        LatencyTable.load(p)


def test_timing_settings_validate():
    with pytest.raises(ValueError, match="rounds: expected an int >= 1"):
        TimingSettings(rounds=0)
    with pytest.raises(ValueError, match="statistic"):
        TimingSettings(statistic="mode")
    with pytest.raises(ValueError, match="sample_ms"):
        TimingSettings(sample_ms=0)
    with pytest.raises(ValueError, match="clock: expected one of"):
        TimingSettings(clock="tsc")
    with pytest.raises(ValueError, match="clock: thread CPU time needs"):
        TimingSettings(clock="thread").resolved("cpu", 2)
    assert TimingSettings().resolved("cpu", 2).clock == "wall"


def test_thread_clock_leaves_out_time_off_the_cpu():
    import time
    from dataclasses import replace

    from nasfast.hardware.timing import time_interleaved

    def nap():
        time.sleep(0.02)

    settings = TimingSettings(warmup=0, rounds=2, sample_ms=0.01)
    wall, thread = (
        time_interleaved([nap], replace(settings, clock=c))[0] for c in ("wall", "thread")
    )
    assert wall["min"] >= 20.0 and thread["min"] < 5.0


def test_outliers_rejected_and_summary():
    samples = [1.0, 1.1, 0.9, 1.05, 0.95, 9.0]
    assert 9.0 not in reject_outliers(samples)
    s = summarize(samples)
    assert s["min"] == 0.9 and s["rejected"] == 1
    assert s["trimmed_mean"] == pytest.approx(1.0)


def test_profile_rejects_bad_arguments():
    with pytest.raises(ValueError, match="threads: expected an int >= 1"):
        profile_modules([(nn.ReLU(), (1, 2))], threads=0, settings=FAST)
    with pytest.raises(ValueError, match="device"):
        profile_modules([(nn.ReLU(), (1, 2))], device="tpu", settings=FAST)
    with pytest.raises(ValueError, match="inputs"):
        profile_modules([(nn.ReLU(), "big")], settings=FAST)
    with pytest.raises(ValueError, match="modules"):
        profile_modules([], settings=FAST)


@requires_cuda
def test_cuda_profile_uses_events_and_measures_workspaces():
    from nasfast.hardware.memory import inference_memory
    from nasfast.hardware.workspace import Workspaces

    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU())
    table = profile_modules([(net, (1, 2, 5, 5))], device="cuda", settings=FAST)
    assert table.device["type"] == "cuda" and table.settings.clock == "wall"
    assert all(e["ms"] > 0 for e in table.ops.values())
    assert inference_memory(net, (4, 2, 5, 5), Workspaces("cuda")).peak > 0
