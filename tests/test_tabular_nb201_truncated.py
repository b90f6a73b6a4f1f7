"""A damaged NAS-Bench-201 table file is a one-line error naming it, never a traceback."""

from __future__ import annotations

import gzip

import pytest

from nasfast.tabular.nb201 import NB201Table, default_path


def test_a_truncated_gzip_table_is_a_one_line_error(tmp_path):
    data = open(default_path(), "rb").read()
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match=r"^path: cannot read .*cut\.csv\.gz .*truncated\?$"):
        NB201Table(cut)


def test_short_rows_and_bad_numbers_are_one_line_errors(tmp_path):
    with gzip.open(default_path(), "rt") as f:
        lines = f.read().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join([*lines[:-1], lines[-1].rsplit(",", 1)[0]]) + "\n")
    with pytest.raises(ValueError, match=r"^path: .* rows of another length"):
        NB201Table(short)
    header = lines[0].split(",")
    j = header.index("params_M_cifar10") if "params_M_cifar10" in header else len(header) - 1
    row = lines[5].split(",")
    row[j] = "abc"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines[:5], ",".join(row), *lines[6:]]) + "\n")
    with pytest.raises(ValueError, match=r"^path: .* non-numeric value"):
        NB201Table(bad)
