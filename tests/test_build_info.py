import subprocess
import sys

import nasfast


def test_build_info_lists_backends_and_ops():
    info = nasfast.build_info()
    assert info["nasfast"] == nasfast.__version__
    assert "cpu" in info["compiled_backends"]
    assert {"mixed_op", "mixed_op_backward"} <= set(info["registered_ops"])
    assert info["num_threads"] >= 1
    assert 0 <= info["cpu_cache_bytes"] <= nasfast.max_cpu_cache_bytes()


def test_cli_info_runs_as_module():
    out = subprocess.run(
        [sys.executable, "-m", "nasfast", "info"], capture_output=True, text=True, check=True
    ).stdout
    assert "compiled_backends" in out and "mixed_op" in out
