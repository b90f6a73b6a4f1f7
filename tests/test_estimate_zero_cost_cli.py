"""``nasfast proxies``."""

import json
import math

import pytest
import torch

from nasfast.cli.main import main


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


TINY = ["--channels", "4", "--cells", "1"]


def test_sampled_cells_with_correlation(tmp_path, capsys):
    out = tmp_path / "p.json"
    rc = main(["proxies", "--n", "12", "--proxy", "synflow,params", *TINY, "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "synflow    Spearman" in text and "params     Spearman" in text
    d = json.loads(out.read_text())
    assert len(d["indices"]) == 12 and len(d["proxies"]["synflow"]["scores"]) == 12
    assert math.isfinite(d["proxies"]["params"]["spearman"])


def test_named_cells_with_a_data_proxy(capsys):
    rc = main(["proxies", "--arch", "333333", "--arch", "0", "--proxy", "snip", "--batch", "4",
               *TINY])  # fmt: skip
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["index", "accuracy", "snip"]
    assert lines[3].split()[0] == "0"


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--proxy", "nope"], "--proxy: expected names from"),
        (["--n", "0"], "--n: expected an int in 1..15625"),
        (["--benchmark", "nb301"], "--benchmark: expected nb201"),
        (["--proxy", "snip", "--dataset", "/no/such/dir"], "--dataset: expected one of"),
        (["--arch", "999999"], "--arch: ops: expected 6 op codes in 0..4"),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv, match, capsys):
    assert main(["proxies", *argv, *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and "\n" not in err
