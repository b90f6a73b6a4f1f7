"""A driver killed with SIGKILL mid-search resumes from its checkpoint: finished evaluations
kept, the ones in flight run again, the same result as an uninterrupted run, no worker left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import executor_driver
import pytest
from executor_helpers import SimulatedWorkers, problem, wait_gone

from nasfast.search import make_strategy, minimize

HERE = Path(__file__).parent


def driver(tmp_path: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    args = [sys.executable, str(HERE / "executor_driver.py")]
    args += [str(tmp_path / "ckpt.json"), str(tmp_path), str(tmp_path / "out.json")]
    return subprocess.Popen(args, env=env)


def finished(path: Path) -> list:
    try:
        return json.loads(path.read_text())["history"]
    except (OSError, ValueError):
        return []


@pytest.mark.slow
def test_a_killed_driver_resumes_and_leaves_no_worker(tmp_path):
    (tmp_path / "pids").mkdir()
    first = driver(tmp_path)
    try:
        end = time.monotonic() + 120
        while len(finished(tmp_path / "ckpt.json")) < 5 and first.poll() is None:
            assert time.monotonic() < end, "the driver made no progress"
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    workers = {int(p.name) for p in (tmp_path / "pids").iterdir()}
    assert workers and wait_gone(workers) == set()  # the orphaned workers exit by themselves
    kept = {tuple(e["candidate"]) for e in finished(tmp_path / "ckpt.json")}
    assert 5 <= len(kept) < executor_driver.BUDGET
    calls_before = len((tmp_path / "log").read_text().splitlines())

    second = driver(tmp_path)
    assert second.wait(timeout=300) == 0
    rerun = (tmp_path / "log").read_text().splitlines()[calls_before:]
    assert not kept & {tuple(map(int, line.split(","))) for line in rerun}
    expected = minimize(
        problem(),
        make_strategy("rea", **executor_driver.REA),
        executor_driver.BUDGET,
        seed=7,
        executor=SimulatedWorkers(2),
    )
    got = json.loads((tmp_path / "out.json").read_text())
    assert got == [[list(e.candidate), e.metrics["score"]] for e in expected.history]
