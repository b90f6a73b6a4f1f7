"""Genotype derivation on hand-made alphas, the skip bound, JSON round trip, bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasfast.darts.genotype import Genotype, derive_cell, derive_genotype
from nasfast.nn import PRIMITIVES

K = {name: k for k, name in enumerate(PRIMITIVES)}
# edge rows in DARTS order: node 0 <- {0,1}; node 1 <- {0,1,2}; node 2 <- {0..3}; node 3 <- {0..4}
ROW = {(i, j): sum(2 + t for t in range(i)) + j for i in range(4) for j in range(2 + i)}


def hand_weights(choices: dict[tuple[int, int], tuple[str, float]], base: float = 0.01):
    W = np.full((14, 8), base)
    for (i, j), (op, w) in choices.items():
        W[ROW[i, j], K[op]] = w
    return W


def test_derivation_keeps_top2_edges_and_best_non_none_op():
    W = hand_weights(
        {
            (0, 0): ("sep_conv_3x3", 0.9),
            (0, 1): ("dil_conv_5x5", 0.5),
            (1, 0): ("max_pool_3x3", 0.2),
            (1, 1): ("sep_conv_5x5", 0.6),
            (1, 2): ("avg_pool_3x3", 0.7),
            (2, 3): ("dil_conv_3x3", 0.8),
            (2, 1): ("skip_connect", 0.3),
            (3, 4): ("sep_conv_3x3", 0.4),
            (3, 0): ("sep_conv_5x5", 0.35),
        }
    )
    # 'none' is the strongest op on edges that must still lose (it is excluded from scores)
    W[ROW[1, 0], K["none"]] = 5.0
    W[ROW[3, 2], K["none"]] = 5.0
    gene = derive_cell(W)
    assert gene == [
        ("sep_conv_3x3", 0), ("dil_conv_5x5", 1),
        ("avg_pool_3x3", 2), ("sep_conv_5x5", 1),
        ("dil_conv_3x3", 3), ("skip_connect", 1),
        ("sep_conv_3x3", 4), ("sep_conv_5x5", 0),
    ]  # fmt: skip


def test_max_skips_replaces_the_weakest_skips():
    W = hand_weights(
        {
            (0, 0): ("skip_connect", 0.9),
            (0, 1): ("skip_connect", 0.8),
            (1, 0): ("skip_connect", 0.7),
            (1, 1): ("skip_connect", 0.6),
            (2, 0): ("sep_conv_3x3", 0.5),
            (2, 1): ("sep_conv_3x3", 0.5),
            (3, 0): ("dil_conv_3x3", 0.5),
            (3, 1): ("dil_conv_3x3", 0.5),
        }
    )
    W[ROW[1, 1], K["max_pool_3x3"]] = 0.3
    W[ROW[1, 2], K["avg_pool_3x3"]] = 0.4
    unbounded = derive_cell(W)
    assert sum(op == "skip_connect" for op, _ in unbounded) == 4
    bounded = derive_cell(W, max_skips=2)
    assert bounded[:2] == [("skip_connect", 0), ("skip_connect", 1)]
    # node 1: both of its skips are struck; its edges are re-chosen from what remains
    assert bounded[2:4] == [("avg_pool_3x3", 2), ("max_pool_3x3", 1)]
    assert bounded[4:] == unbounded[4:]


def test_edge_scale_changes_edge_selection():
    W = hand_weights({(0, 0): ("sep_conv_3x3", 0.5), (0, 1): ("sep_conv_5x5", 0.5)})
    W[ROW[1, 2], K["dil_conv_3x3"]] = 0.45
    scale = np.ones(14)
    scale[ROW[1, 2]] = 10.0
    assert derive_cell(W, edge_scale=scale)[2] == ("dil_conv_3x3", 2)


def test_derive_genotype_softmax_mask_and_json_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    an, ar = rng.normal(size=(14, 8)), rng.normal(size=(14, 8))
    mask = np.ones((2, 14, 8), dtype=bool)
    mask[:, :, K["sep_conv_3x3"]] = False
    g = derive_genotype(an, ar, op_mask=mask, max_skips=None)
    assert all(op != "sep_conv_3x3" for op, _ in g.normal + g.reduce)
    assert g.normal_concat == [2, 3, 4, 5] and len(g.normal) == 8 and len(g.reduce) == 8
    path = str(tmp_path / "g.json")
    g.save(path)
    d = json.load(open(path))
    assert set(d) >= {
        "normal",
        "reduce",
        "normal_concat",
        "reduce_concat",
        "alphas_normal",
        "alphas_reduce",
    }
    assert all(isinstance(p, list) and len(p) == 2 for p in d["normal"])
    assert np.allclose(d["alphas_normal"], an)
    back = Genotype.load(path)
    assert back.normal == g.normal and back.reduce == g.reduce


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"normal": [["sep_conv_3x3", 0]], "reduce": []}', "non-empty list"),
        (
            '{"normal": [["conv_9x9", 0], ["sep_conv_3x3", 1]], "reduce": [["sep_conv_3x3", 0], '
            '["sep_conv_3x3", 1]]}',
            "unknown op",
        ),
        (
            '{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 5]], '
            '"reduce": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1]]}',
            "not an earlier node",
        ),
    ],
)
def test_bad_genotype_files_give_one_line_errors(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=fragment) as e:
        Genotype.load(str(path))
    assert "\n" not in str(e.value)
