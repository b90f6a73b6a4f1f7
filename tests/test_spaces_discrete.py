"""The generic discrete space."""

from __future__ import annotations

import numpy as np
import pytest

from nasfast.spaces import (
    DiscreteSpace,
)


def test_discrete_space_basics():
    space = DiscreteSpace([3, ["a", "b"], 4], constraints=lambda c: c[0] != 2 or c[2] != 3)
    assert space.size == 24
    valid = list(space.enumerate())
    assert len(valid) == 22 and all(space.is_valid(c) for c in valid)
    for idx in range(space.size):
        assert space.index(space.from_index(idx)) == idx
    rng = np.random.default_rng(0)
    for c in space.sample(rng, 200):
        assert space.is_valid(c)
        m = space.mutate(c, rng)
        assert space.is_valid(m) and sum(a != b for a, b in zip(c, m, strict=True)) == 1
    assert all(space.is_valid(n) for n in space.neighbors((2, 0, 2)))
    assert (2, 0, 3) not in space.neighbors((2, 0, 2))
    assert space.values((1, 1, 0)) == (1, "b", 0)
    X = space.one_hot([(0, 1, 3)])
    assert X.shape == (1, 9) and X.sum() == 3
    with pytest.raises(ValueError, match="^candidate: "):
        space.validate((2, 0, 3))
    with pytest.raises(ValueError, match="^choices: "):
        DiscreteSpace([3, 0])
