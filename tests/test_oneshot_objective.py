"""The supernet as a batched objective: one call per generation, equal to the loop."""

import pytest
import torch
from oneshot_helpers import tiny_images as _data
from oneshot_helpers import tiny_supernet as _net

from nasfast import oneshot as hybrid


def test_objective_scores_a_generation_in_one_call_and_matches_the_loop():
    x, y = _data(n=20)
    net = _net().eval()
    obj = hybrid.SupernetObjective(net, x, y, costs=["params"], batch_size=7)
    cands = [(3, 1, 2, 4, 0, 3), (0, 0, 0, 0, 0, 0), (3, 1, 2, 4, 0, 3), (1, 2, 3, 4, 1, 2)]
    out = obj(cands)
    assert obj.calls == 1 and obj.scored == 4
    with torch.no_grad():
        for c, m in zip(cands, out, strict=True):
            correct = sum(
                int((net(x[i : i + 7], c, bn="batch").argmax(-1) == y[i : i + 7]).sum())
                for i in range(0, 20, 7)
            )
            assert m["accuracy"] == pytest.approx(100.0 * correct / 20)
            assert m["params"] > 0 and 0 <= m["index"] < 15625
    assert out[0]["params"] > out[1]["params"]
