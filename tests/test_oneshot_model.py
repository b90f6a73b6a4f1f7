"""One-shot search on a model space: the supernet's modes, DARTS/GDAS, SPOS + evolution."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import requires_cuda
from torch import nn

from nasfast.oneshot.model_darts import OneShotConfig, search_darts
from nasfast.oneshot.model_spos import evolve_spos, path_loss, train_spos
from nasfast.oneshot.model_supernet import ModelSupernet
from nasfast.spaces.model import InputChoice, LayerChoice, ModelSpace, Repeat, choice


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class Cell(nn.Module):
    def __init__(self, c: int, i: int):
        super().__init__()
        ops = {"conv3": nn.Conv1d(c, c, 3, padding=1), "conv1": nn.Conv1d(c, c, 1)}
        self.op = LayerChoice({**ops, "id": nn.Identity()}, label=f"op{i}")
        self.k = LayerChoice.from_values(
            f"k{i}", [1, 3], lambda k: nn.Conv1d(c, c, k, padding=k // 2)
        )
        self.skip = InputChoice(2, 1, label=f"skip{i}")

    def forward(self, x):
        return torch.relu(self.skip([x, self.k(self.op(x))]))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv1d(1, 4, 3, padding=1)
        self.body = Repeat(lambda i: Cell(4, i), [1, 2], label="depth")
        self.pick = InputChoice(3, 2, "mean", label="pick")
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        h = self.stem(x)
        b = self.body(h)
        return self.head(self.pick([h, b, h * b]).mean(-1))


@pytest.fixture(scope="module")
def space():
    return ModelSpace(Net)


def _data(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, generator=g)
    return x, (x.mean(dim=(1, 2)) > 0).long() + (x[:, 0, 0] > 1).long()


def _set_alphas(net: ModelSupernet, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for a in net.alphas.values():
            a.copy_(torch.randn(a.shape, generator=g))


def test_darts_mode_mixes_every_choice_by_softmax_weights(space):
    torch.manual_seed(0)
    net = ModelSupernet(space).eval()
    _set_alphas(net)
    x = torch.randn(2, 1, 8)
    w = {k: torch.softmax(a.detach(), 0) for k, a in net.alphas.items()}
    m = net.model

    def cell(c, i, h):
        y = sum(w[f"op{i}"][j] * op(h) for j, op in enumerate(c.op.candidates.values()))
        y = sum(w[f"k{i}"][j] * op(y) for j, op in enumerate(c.k.candidates.values()))
        return torch.relu(w[f"skip{i}"][0] * h + w[f"skip{i}"][1] * y)

    h = m.stem(x)
    outs, b = [], h
    for i, c in enumerate(m.body.blocks):
        b = cell(c, i, b)
        outs.append(b)
    b = w["depth"][0] * outs[0] + w["depth"][1] * outs[1]
    ins = [h, b, h * b]
    picked = sum(w["pick"][j] * ins[j] for j in range(3))  # "mean" of a mixture: weighted sum
    expect = m.head(picked.mean(-1))
    torch.testing.assert_close(net(x), expect)


def test_fixed_path_equals_the_frozen_model_with_inherited_weights(space):
    torch.manual_seed(1)
    net = ModelSupernet(space).eval()
    rng = np.random.default_rng(0)
    x = torch.randn(3, 1, 8)
    for _ in range(5):
        arch = space.sample(rng)
        frozen = net.freeze(arch).eval()
        with net.path(arch):
            torch.testing.assert_close(net(x), frozen(x))


def test_gdas_runs_one_sampled_path_and_reaches_its_alphas(space):
    torch.manual_seed(2)
    net = ModelSupernet(space, mode="gdas").eval()
    x = torch.randn(4, 1, 8)
    depths = set()
    for seed in range(6):
        net.generator = torch.Generator().manual_seed(seed)
        net.zero_grad()
        out = net(x)
        sample = net.last_sample()
        depths.add(sample["depth"])
        arch = {**space.default(), **sample}
        with net.path(arch):
            torch.testing.assert_close(out, net(x))  # hard weights: the forward is the path
        out.sum().backward()
        on_path = {k for k in space.labels if k[-1] not in "01" or int(k[-1]) < sample["depth"]}
        assert set(sample) == on_path
        with_grad = {k for k, a in net.alphas.items() if a.grad is not None}
        assert {"depth", "pick"} <= with_grad <= on_path
    assert depths == {1, 2}


def test_derive_takes_the_argmax_and_the_top_inputs(space):
    net = ModelSupernet(space)
    with torch.no_grad():
        for a in net.alphas.values():
            a.zero_()
        net.alphas["op0"][2] = 1.0
        net.alphas["k1"][1] = 1.0
        net.alphas["pick"].copy_(torch.tensor([0.3, -1.0, 2.0]))
        net.alphas["depth"][1] = 1.0
    arch = net.derive()
    assert arch["op0"] == "id" and arch["k1"] == 3 and arch["depth"] == 2
    assert arch["pick"] == (0, 2)
    assert space.validate(arch) == arch


def test_plain_value_reads_are_refused_by_the_supernet():
    class Wide(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, choice("width", [2, 4]))
            self.act = LayerChoice([nn.ReLU(), nn.Tanh()], label="act")

    with pytest.raises(ValueError, match="space: 'width' is read as a plain value"):
        ModelSupernet(ModelSpace(Wide))


def test_a_concatenating_input_choice_cannot_be_mixed():
    class Cat(nn.Module):
        def __init__(self):
            super().__init__()
            self.pick = InputChoice(2, 1, "concat", label="pick")

        def forward(self, x):
            return self.pick([x, 2 * x])

    net = ModelSupernet(ModelSpace(Cat))
    with pytest.raises(ValueError, match="reduction: input choice 'pick' concatenates"):
        net(torch.ones(2, 3))
    with net.path({"pick": (1,)}):
        torch.testing.assert_close(net(torch.ones(2, 3)), 2 * torch.ones(2, 3))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"mode": "enas"}, "mode: expected one of"),
        ({"backend": "cuda"}, "backend: expected"),
    ],
)
def test_supernet_rejects_bad_arguments(space, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ModelSupernet(space, **kwargs)


class Toy(nn.Module):
    """y = x: the identity fits it, the negation is as wrong as it gets."""

    def __init__(self):
        super().__init__()
        self.op = LayerChoice({"negate": Negate(), "identity": nn.Identity()}, label="op")
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.op(x) + self.bias


class Negate(nn.Module):
    def forward(self, x):
        return -x


def _mse(out, y):
    return F.mse_loss(out, y)


@pytest.mark.parametrize(
    "order, method", [("first", "darts"), ("second", "darts"), ("first", "gdas")]
)
def test_darts_and_gdas_pick_the_op_that_fits(order, method):
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    cfg = OneShotConfig(steps=40, batch_size=16, order=order, method=method, arch_lr=0.05, lr=0.1)
    res, net = search_darts(ModelSpace(Toy), (x, x), (x, x), cfg, loss=_mse)
    assert res.arch == {"op": "identity"}
    assert res.alphas["op"][1] > res.alphas["op"][0]
    assert len(res.losses) == 40 and res.losses[-1] < 0.5 * res.losses[0]


@pytest.mark.parametrize("method", ["darts", "gdas"])
def test_darts_search_resumes_to_the_same_result(space, tmp_path, method):
    cfg = OneShotConfig(steps=4, batch_size=8, arch_lr=0.01, method=method)
    data = _data()
    whole, _ = search_darts(space, data, data, cfg)
    ck = str(tmp_path / "darts.pt")
    search_darts(space, data, data, cfg, checkpoint=ck, stop_after=2)
    resumed, _ = search_darts(space, data, data, cfg, checkpoint=ck)
    assert resumed.losses == whole.losses
    assert resumed.alphas == whole.alphas


@pytest.mark.parametrize(
    "cfg, match",
    [
        (OneShotConfig(steps=0), "steps: expected an int >= 1, got 0"),
        (OneShotConfig(order="third"), "order: expected one of"),
        (OneShotConfig(method="enas"), "method: expected one of"),
        (OneShotConfig(arch_lr=-1.0), "arch_lr: expected a positive number"),
    ],
)
def test_darts_search_rejects_bad_settings(space, cfg, match):
    with pytest.raises(ValueError, match=match):
        search_darts(space, _data(), _data(), cfg)


def test_darts_search_rejects_mismatched_data(space):
    x, y = _data()
    with pytest.raises(ValueError, match="train: x has 48 rows but y has 47"):
        search_darts(space, (x, y[:-1]), (x, y))


def test_spos_training_lowers_the_loss_and_resumes_exactly(space, tmp_path):
    data = _data(96)
    torch.manual_seed(0)
    whole = train_spos(ModelSupernet(space), data, steps=6, batch_size=16, paths=2, lr=0.05)
    ck = str(tmp_path / "spos.pt")
    torch.manual_seed(0)
    train_spos(
        ModelSupernet(space), data, steps=6, batch_size=16, paths=2, checkpoint=ck, stop_after=3
    )
    torch.manual_seed(99)  # the resumed run's initial weights are overwritten by the checkpoint
    resumed = train_spos(ModelSupernet(space), data, steps=6, batch_size=16, paths=2, checkpoint=ck)
    assert resumed == whole


def test_spos_rejects_bad_arguments(space):
    with pytest.raises(ValueError, match="paths: expected an int >= 1, got 0"):
        train_spos(ModelSupernet(space), _data(), steps=2, paths=0)


def test_evolution_over_the_trained_supernet_scores_paths(space):
    torch.manual_seed(0)
    net = ModelSupernet(space)
    train_spos(net, _data(96), steps=3, batch_size=16)
    val = _data(32, seed=1)
    res = evolve_spos(
        net,
        val,
        budget=6,
        strategy_kwargs={"population_size": 3, "sample_size": 2},
        metrics={"depth": lambda a: a["depth"]},
    )
    ds = space.discrete()
    assert res.n_evals == 6
    for e in res.history:
        arch = ds.arch(e.candidate)
        assert e.metrics["val_loss"] == pytest.approx(path_loss(net, arch, *val))
        assert e.metrics["depth"] == arch["depth"]
    assert res.best.metrics["val_loss"] == min(e.metrics["val_loss"] for e in res.history)


def test_path_scoring_leaves_the_supernet_statistics_alone(space):
    class WithBN(nn.Module):
        def __init__(self):
            super().__init__()
            self.op = LayerChoice([nn.BatchNorm1d(1), nn.Identity()], label="op")

        def forward(self, x):
            return self.op(x).mean(-1)

    net = ModelSupernet(ModelSpace(WithBN))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.randn(8, 1, 4) + 3.0
    path_loss(net, {"op": "0"}, x, torch.zeros(8, 1), loss=_mse)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


@requires_cuda
@pytest.mark.cuda
def test_darts_search_runs_on_cuda(space):
    data = _data()
    res, net = search_darts(space, data, data, OneShotConfig(steps=2, batch_size=8), device="cuda")
    assert next(net.parameters()).is_cuda and space.validate(res.arch) == res.arch
    train_spos(net, data, steps=2, batch_size=8)
    assert path_loss(net, res.arch, *data) > 0


class Slim(nn.Module):
    """A width shared by three layers (weight-shared slices of the widest)."""

    def __init__(self):
        super().__init__()
        widths = [2, 4, 6]
        self.a = LayerChoice.from_values("width", widths, lambda w: nn.Linear(3, w), shared=True)
        self.bn = LayerChoice.from_values("width", widths, nn.BatchNorm1d, shared=True)
        self.b = LayerChoice.from_values("width", widths, lambda w: nn.Linear(w, 2), shared=True)
        self.act = LayerChoice([nn.ReLU(), nn.Tanh()], label="act")

    def forward(self, x):
        return self.b(self.act(self.bn(self.a(x))))


def test_shared_width_uses_leading_slices_of_the_widest_weights():
    space = ModelSpace(Slim)
    torch.manual_seed(0)
    net = ModelSupernet(space)
    n_params = sum(p.numel() for p in net.weight_parameters())
    assert n_params == (3 * 6 + 6) + 2 * 6 + (6 * 2 + 2)  # the widest candidates only
    a = net.model.a.candidates["2"]
    b = net.model.b.candidates["2"]
    x = torch.randn(5, 3)
    net.eval()
    for w in (2, 4, 6):
        arch = {"width": w, "act": "1"}
        h = F.linear(x, a.weight[:w], a.bias[:w])
        h = F.batch_norm(h, torch.zeros(w), torch.ones(w), training=False)  # fresh statistics
        expect = F.linear(torch.tanh(h), b.weight[:, :w], b.bias)
        with net.path(arch):
            torch.testing.assert_close(net(x), expect)
        frozen = net.freeze(arch).eval()
        assert frozen.a.out_features == w and isinstance(frozen.a, nn.Linear)
        torch.testing.assert_close(frozen(x), expect)


def test_training_a_narrow_path_updates_only_the_leading_slice():
    space = ModelSpace(Slim)
    torch.manual_seed(0)
    net = ModelSupernet(space)
    before = net.model.a.candidates["2"].weight.detach().clone()
    bn = net.model.bn.candidates["2"]
    net.train()
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1)
    with net.path({"width": 2, "act": "0"}):
        net(torch.randn(8, 3)).square().sum().backward()
    opt.step()
    after = net.model.a.candidates["2"].weight.detach()
    assert not torch.equal(after[:2], before[:2]) and torch.equal(after[2:], before[2:])
    assert (bn.running_mean[:2] != 0).all() and (bn.running_mean[2:] == 0).all()


def test_shared_candidates_must_be_slices_of_the_widest():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = LayerChoice.from_values(
                "k", [1, 3], lambda k: nn.Conv1d(2, 2 if k == 1 else 1, k), shared=True
            )

    with pytest.raises(ValueError, match="shared: 'k' candidate 0 has weight of shape"):
        ModelSpace(Bad)


def test_a_plain_read_is_refused_even_when_a_choice_module_shares_its_label():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            w = choice("width", [2, 4])  # fixed at 2 in a supernet, whatever is sampled
            self.a = LayerChoice.from_values("width", [2, 4], lambda v: nn.Linear(3, v))
            self.b = nn.Linear(w, 1)

    with pytest.raises(ValueError, match="'width' is read as a plain value"):
        ModelSupernet(ModelSpace(Mixed))


def test_multi_objective_evolution_over_the_supernet(space):
    torch.manual_seed(0)
    net = ModelSupernet(space)
    n_params = {}

    def params(arch):
        key = space.to_json(arch)
        if key not in n_params:
            n_params[key] = sum(p.numel() for p in net.freeze(arch).parameters())
        return n_params[key]

    res = evolve_spos(
        net,
        _data(32),
        budget=8,
        strategy="nsga2",
        strategy_kwargs={"objectives": ["min:val_loss", "min:params"], "pop_size": 4},
        metrics={"params": params},
    )
    front = res.front()
    assert res.n_evals == 8 and front
    F_all = [(e.metrics["val_loss"], e.metrics["params"]) for e in res.history]
    for e in front:  # nothing evaluated dominates a front member
        f = (e.metrics["val_loss"], e.metrics["params"])
        assert not any(g[0] <= f[0] and g[1] <= f[1] and g != f for g in F_all)
