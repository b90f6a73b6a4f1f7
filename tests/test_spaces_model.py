"""Model spaces: choices inside an nn.Module, the space object, freeze, encodings, JSON."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nasfast.spaces.model import InputChoice, LayerChoice, ModelSpace, Repeat, choice


class Block(nn.Module):
    def __init__(self, width: int, i: int):
        super().__init__()
        self.lin = nn.Linear(width, width)
        self.act = LayerChoice({"relu": nn.ReLU(), "tanh": nn.Tanh()}, label=f"act{i}")

    def forward(self, x):
        return x + self.act(self.lin(x))


class Net(nn.Module):
    """Every primitive: a value choice, a derived width, a reused label, a repeat, an input
    choice and layer choices inside repeated blocks."""

    def __init__(self, n_in: int = 4, n_out: int = 3):
        super().__init__()
        width = choice("width", [8, 16])
        self.inp = nn.Linear(n_in, width)
        self.up = LayerChoice.from_values("expand", [1, 2], lambda e: nn.Linear(width, width * e))
        self.down = LayerChoice.from_values("expand", [1, 2], lambda e: nn.Linear(width * e, width))
        self.blocks = Repeat(lambda i: Block(width, i), [1, 2, 3], label="depth")
        self.skip = InputChoice(3, 2, "sum", label="skip")
        self.out = nn.Linear(width, n_out)

    def forward(self, x):
        h = self.inp(x)
        a = self.down(self.up(h))
        b = self.blocks(a)
        return self.out(self.skip([h, a, b]))


@pytest.fixture(scope="module")
def space() -> ModelSpace:
    return ModelSpace(Net)


def _nasfast_modules(m: nn.Module) -> list[str]:
    return [type(x).__module__ for x in m.modules() if type(x).__module__.startswith("nasfast")]


def test_space_lists_choices_sizes_and_kinds(space):
    assert space.labels == ["width", "expand", "depth", "act0", "act1", "act2", "skip"]
    assert space.sizes == {
        "width": 2,
        "expand": 2,
        "depth": 3,
        "act0": 2,
        "act1": 2,
        "act2": 2,
        "skip": 3,
    }
    assert [space.specs[k].kind for k in ("width", "expand", "depth", "act0", "skip")] == [
        "value",
        "value",
        "repeat",
        "layer",
        "input",
    ]
    assert space.specs["skip"].values == ((0, 1), (0, 2), (1, 2))
    assert space.size == 2 * 2 * 3 * 2 * 2 * 2 * 3
    assert space.plain_reads == {"width"}


def test_freeze_builds_only_the_chosen_parts(space):
    arch = {
        "width": 16,
        "expand": 2,
        "depth": 2,
        "act0": "tanh",
        "act1": "relu",
        "act2": "tanh",
        "skip": (0, 2),
    }
    m = space.freeze(arch)
    assert isinstance(m, Net)
    assert not _nasfast_modules(m)
    assert m.up.out_features == 32 and m.down.in_features == 32  # one reused label
    assert len(m.blocks) == 2 and isinstance(m.blocks, nn.Sequential)
    assert isinstance(m.blocks[0].act, nn.Tanh) and isinstance(m.blocks[1].act, nn.ReLU)
    x = torch.randn(5, 4)
    h = m.inp(x)
    a = m.down(m.up(h))
    expect = m.out(h + m.blocks(a))  # inputs 0 and 2, summed
    torch.testing.assert_close(m(x), expect)


def test_frozen_parameter_count_matches_a_hand_built_model(space):
    m = space.freeze(space.default())
    width, depth = 8, 1
    n = (4 * width + width) + 2 * (width * width + width) + depth * (width * width + width)
    n += width * 3 + 3
    assert sum(p.numel() for p in m.parameters()) == n


@pytest.mark.parametrize("reduction", ["sum", "mean", "concat"])
def test_input_choice_reductions_frozen_and_recorded_agree(reduction):
    class Pick(nn.Module):
        def __init__(self):
            super().__init__()
            self.pick = InputChoice(4, 2, reduction, label="pick")

        def forward(self, xs):
            return self.pick(xs)

    space = ModelSpace(Pick)
    xs = [torch.randn(2, 3) for _ in range(4)]
    for value in space.specs["pick"].values:
        frozen = space.freeze({"pick": value})
        sup, _ = space.build()
        want = [xs[i] for i in value]
        if reduction == "concat":
            ref = torch.cat(want, 1)
        else:
            ref = (want[0] + want[1]) / (2 if reduction == "mean" else 1)
        torch.testing.assert_close(frozen(xs), ref)
        torch.testing.assert_close(sup.pick.forward_chosen(value, xs), ref)


def test_unfrozen_model_runs_its_default_architecture(space):
    torch.manual_seed(0)
    sup, _ = space.build()
    torch.manual_seed(0)
    frozen = space.freeze(space.default())
    x = torch.randn(3, 4)
    # same construction order for the chosen parts: same first-layer weights
    torch.testing.assert_close(sup.inp.weight, frozen.inp.weight)
    assert sup(x).shape == frozen(x).shape == (3, 3)


def test_sample_covers_every_value_and_is_valid(space):
    rng = np.random.default_rng(0)
    seen = {k: set() for k in space.labels}
    for _ in range(200):
        a = space.sample(rng)
        assert space.validate(a) == a
        for k, v in a.items():
            seen[k].add(v)
    assert all(len(seen[k]) == space.specs[k].size for k in space.labels)


def test_sample_is_reproducible(space):
    a = [space.sample(np.random.default_rng(7)) for _ in range(2)]
    assert a[0] == a[1]


def test_encodings(space):
    rng = np.random.default_rng(1)
    archs = [space.sample(rng) for _ in range(5)]
    hot = space.encode(archs)
    assert hot.shape == (5, sum(space.sizes.values()))
    assert (hot.sum(axis=1) == len(space.labels)).all()
    vals = space.encode(archs, how="values")
    assert vals.shape == (5, len(space.labels))
    for row, a in zip(vals, archs, strict=True):
        assert row[0] == a["width"] and row[1] == a["expand"] and row[2] == a["depth"]
        assert row[3] == ["relu", "tanh"].index(a["act0"])
    both = space.encode(archs[0], how="both")
    assert both.shape == (hot.shape[1] + vals.shape[1],)
    with pytest.raises(ValueError, match="how"):
        space.encode(archs, how="graph")


def test_json_round_trip(space, tmp_path):
    rng = np.random.default_rng(2)
    for _ in range(20):
        a = space.sample(rng)
        assert space.from_json(space.to_json(a)) == a
    path = tmp_path / "arch.json"
    space.save(a, path)
    assert space.load(path) == a
    torch.testing.assert_close(
        sum(p.numel() for p in space.freeze(space.load(path)).parameters()),
        sum(p.numel() for p in space.freeze(a).parameters()),
    )


@pytest.mark.parametrize(
    "arch, match",
    [
        ({"width": 8}, "no value for choice 'expand'"),
        ({**dict.fromkeys(["a"], 1)}, "unknown label 'a'"),
        ([1, 2], "expected a dict"),
    ],
)
def test_bad_architectures_raise_one_line_errors(space, arch, match):
    with pytest.raises(ValueError, match=match):
        space.freeze(arch)


def test_bad_value_and_bad_json(space, tmp_path):
    bad = {**space.default(), "width": 12}
    with pytest.raises(ValueError, match=r"'width' = 12 is not one of its candidates \[8, 16\]"):
        space.validate(bad)
    with pytest.raises(ValueError, match="arch: not JSON"):
        space.from_json("{width: 8")
    with pytest.raises(ValueError, match="path: cannot read"):
        space.load(tmp_path / "missing.json")


def test_reused_label_must_name_the_same_candidates():
    class Clash(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = LayerChoice([nn.ReLU(), nn.Tanh()], label="act")
            self.b = LayerChoice([nn.ReLU(), nn.Tanh(), nn.GELU()], label="act")

    with pytest.raises(ValueError, match="label: 'act' is reused for a different choice"):
        ModelSpace(Clash)


def test_auto_labels_are_stable():
    class Auto(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = LayerChoice([nn.ReLU(), nn.Tanh()])
            self.b = LayerChoice([nn.ReLU(), nn.Tanh()])
            self.c = InputChoice(2)

    s1, s2 = ModelSpace(Auto), ModelSpace(Auto)
    assert s1.labels == s2.labels == ["layer_0", "layer_1", "input_0"]
    m = s1.freeze({"layer_0": "1", "layer_1": "0", "input_0": (1,)})
    assert isinstance(m.a, nn.Tanh) and isinstance(m.b, nn.ReLU)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: LayerChoice([], label="x"), "candidates: expected at least one"),
        (lambda: LayerChoice([nn.ReLU(), 3], label="x"), "candidates: '1' is a int"),
        (lambda: LayerChoice({"a.b": nn.ReLU()}, label="x"), "contain no '.'"),
        (lambda: InputChoice(2, 3), "n_chosen: expected <= n_candidates"),
        (lambda: InputChoice(0), "n_candidates: expected an int >= 1"),
        (lambda: InputChoice(2, reduction="max"), "reduction: expected one of"),
        (lambda: Repeat(lambda i: nn.ReLU(), [], label="d"), "depths: expected a non-empty"),
        (lambda: Repeat(lambda i: nn.ReLU(), [-1], label="d"), "depths: expected"),
        (lambda: choice("w", []), "values: choice 'w' needs at least one"),
        (lambda: choice("w", [1, 1]), "lists a candidate twice"),
        (lambda: choice("w", [[1]]), "must be JSON scalars"),
        (lambda: choice("a.b", [1]), "label: expected a non-empty string"),
    ],
)
def test_bad_choices_raise_one_line_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_a_model_without_choices_is_refused():
    with pytest.raises(ValueError, match="makes no choices"):
        ModelSpace(nn.Linear, 2, 3)


def test_input_choice_checks_its_inputs():
    space = ModelSpace(lambda: InputChoice(3, label="i"))
    sup, _ = space.build()
    with pytest.raises(ValueError, match="inputs: choice 'i' expects a list of 3 tensors, got 2"):
        sup([torch.ones(1), torch.ones(1)])


def test_frozen_model_exports_and_compiles(space):
    arch = {**space.default(), "depth": 2, "skip": (1, 2), "act1": "tanh"}
    m = space.freeze(arch).eval()
    x = torch.randn(6, 4)
    exported = torch.export.export(m, (x,))
    torch.testing.assert_close(exported.module()(x), m(x))
    compiled = torch.compile(m, backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(compiled(x), m(x))
