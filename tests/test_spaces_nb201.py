"""The NAS-Bench-201 cell: arch strings, op codes, and the space with and without the table."""

from __future__ import annotations

import pytest

from nasfast.spaces import (
    OPS,
    NB201Space,
    arch_str_to_ops,
    ops_to_arch_str,
)


def test_arch_string_format():
    ops = (3, 3, 4, 1, 3, 1)
    assert ops_to_arch_str(ops) == (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
        "skip_connect~2|"
    )
    assert OPS[0] == "none" and OPS[4] == "avg_pool_3x3"


@pytest.mark.parametrize(
    "bad",
    [
        "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|none~1|",
        "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~0|+|none~0|+|none~0|none~1|none~2|",
    ],
)
def test_bad_arch_strings(bad):
    with pytest.raises(ValueError, match="^arch: "):
        arch_str_to_ops(bad)


def test_bad_ops():
    with pytest.raises(ValueError, match="^ops: "):
        ops_to_arch_str([0, 1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="^ops: "):
        ops_to_arch_str([0, 1, 2])


def _base5(n: int) -> tuple[int, ...]:
    digits = []
    for _ in range(6):
        n, d = divmod(n, 5)
        digits.append(d)
    return tuple(reversed(digits))


class _ReversedOrder:
    """A made-up index order: 15624 minus the op codes read as a base-5 number."""

    def index_of(self, ops):
        return 15624 - int("".join(map(str, ops)), 5)

    def ops_of(self, index):
        return _base5(15624 - index)


def test_space_takes_its_index_order_from_what_it_is_given():
    space = NB201Space(_ReversedOrder())
    assert space.parse(15624) == (0,) * 6 and space.parse("0") == (4,) * 6
    assert space.bench_index((0, 0, 0, 0, 0, 1)) == 15623
    assert space.parse("000004") == (0, 0, 0, 0, 0, 4)  # six digits are op codes, not an index


def test_space_without_an_index_order_refuses_indices():
    space = NB201Space()
    assert space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|") == (0,) * 6
    with pytest.raises(ValueError, match="^arch: official indices need"):
        space.parse(12)
    with pytest.raises(ValueError, match="^c: official indices need"):
        space.bench_index((0,) * 6)
