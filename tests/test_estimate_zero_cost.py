"""Zero-cost proxies on any nn.Module: each against a direct implementation of its formula."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nasfast.estimate.zero_cost import PROXIES, score


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # tiny ops: one thread avoids OpenMP barrier waits on a loaded machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


NAMES = sorted(PROXIES)


def small_cnn(seed: int = 0, classes: int = 5) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 6, 3, padding=1, bias=False),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, classes),
    )


def minibatch(n: int = 8, classes: int = 5, seed: int = 1, size: int = 6):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, size, size, generator=g)
    return x, torch.randint(0, classes, (n,), generator=g)


def test_thirteen_proxies_registered_with_citations():
    want = {
        "synflow", "snip", "grad_norm", "grasp", "fisher", "jacov", "nwot", "epe_nas",
        "l2_norm", "plain", "zen", "params", "flops",
    }  # fmt: skip
    assert set(PROXIES) == want
    for p in PROXIES.values():
        assert p.citation and p.fn.__doc__


def test_synflow_of_two_linear_layers_is_twice_the_path_sum():
    # f(x) = W2 W1 x: every input-output path crosses 2 weights, so sum theta dR/dtheta = 2 R
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3, bias=False), nn.BatchNorm1d(3), nn.Linear(3, 2, bias=False))
    w1, w2 = net[0].weight.detach().abs().double(), net[2].weight.detach().abs().double()
    r = (w2 @ w1 @ torch.ones(4, dtype=torch.float64)).sum()
    assert score(net, (4,), "synflow") == pytest.approx(2 * float(r), rel=1e-12)


def _linear_grad(w, b, x, y):
    p = torch.softmax(x @ w.T + b, dim=1)
    return (p - F.one_hot(y, w.shape[0]).to(p.dtype)).T @ x / x.shape[0]


def test_gradient_saliencies_of_one_linear_layer():
    torch.manual_seed(0)
    net = nn.Linear(5, 3).double()
    x = torch.randn(7, 5, dtype=torch.float64)
    y = torch.randint(0, 3, (7,))
    w, b = net.weight.detach(), net.bias.detach()
    g = _linear_grad(w, b, x, y)
    assert score(net, (x, y), "snip") == pytest.approx(float((w * g).abs().sum()), rel=1e-10)
    assert score(net, (x, y), "plain") == pytest.approx(float((w * g).sum()), rel=1e-10)
    assert score(net, (x, y), "grad_norm") == pytest.approx(float(g.norm()), rel=1e-10)


def test_grasp_is_minus_theta_hessian_gradient():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 3)).double()
    x = torch.randn(6, 4, dtype=torch.float64)
    y = torch.randint(0, 3, (6,))
    w1, b1, w2, b2 = (p.detach() for p in net.parameters())

    def loss(flat):
        a, c = flat[:12].view(3, 4), flat[12:].view(3, 3)
        return F.cross_entropy(torch.tanh(x @ a.T + b1) @ c.T + b2, y)

    theta = torch.cat([w1.flatten(), w2.flatten()])
    g = torch.autograd.functional.jacobian(loss, theta)
    h = torch.autograd.functional.hessian(loss, theta)
    assert score(net, (x, y), "grasp") == pytest.approx(float(-(theta * (h @ g)).sum()), rel=1e-9)


def test_fisher_of_one_linear_layer():
    torch.manual_seed(0)
    net = nn.Linear(5, 4).double()
    x = torch.randn(9, 5, dtype=torch.float64)
    y = torch.randint(0, 4, (9,))
    z = net(x).detach()
    gz = (torch.softmax(z, 1) - F.one_hot(y, 4).double()) / 9
    want = 0.5 * (z * gz).pow(2).mean(0).sum()
    assert score(net, (x, y), "fisher") == pytest.approx(float(want), rel=1e-10)


def _jacobian_rows(net, x):
    rows = []
    for xi in x:
        j = torch.autograd.functional.jacobian(lambda v: net(v[None]).sum(), xi)
        rows.append(j.flatten().numpy())
    return np.stack(rows)


def test_jacov_against_numpy_eigenvalues():
    net = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    torch.manual_seed(0)
    for p in net.parameters():
        nn.init.normal_(p)
    x = torch.randn(5, 6, dtype=torch.float64)
    v = np.linalg.eigvals(np.corrcoef(_jacobian_rows(net, x))).real
    want = -np.sum(np.log(v + 1e-5) + 1.0 / (v + 1e-5))
    assert score(net, x, "jacov") == pytest.approx(want, rel=1e-6)


def test_jacov_of_a_linear_model_is_hand_computable():
    # equal Jacobian rows: the correlation matrix is all ones, eigenvalues B, 0, ..., 0
    net = nn.Linear(4, 3).double()
    B, k = 6, 1e-5
    want = -(math.log(B + k) + 1 / (B + k) + (B - 1) * (math.log(k) + 1 / k))
    got = score(net, torch.randn(B, 4, dtype=torch.float64), "jacov")
    assert got == pytest.approx(want, rel=1e-6)


def test_nwot_is_logdet_of_the_hamming_kernel():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 40), nn.ReLU(), nn.Linear(40, 3)).double()
    x = torch.randn(6, 5, dtype=torch.float64)
    c = (net[0](x) > 0).double()
    hamming = (c[:, None, :] != c[None, :, :]).sum(-1).double()
    k = 40 - hamming
    assert score(net, x, "nwot") == pytest.approx(float(torch.logdet(k)), rel=1e-10)


def test_epe_nas_against_a_per_class_loop():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4)).double()
    x = torch.randn(10, 6, dtype=torch.float64)
    y = torch.tensor([0, 1, 1, 2, 2, 2, 0, 1, 3, 0])
    jac = _jacobian_rows(net, x)
    want = 0.0
    for c in np.unique(y.numpy()):
        corr = np.atleast_2d(np.corrcoef(jac[y.numpy() == c]))
        want += abs(np.sum(np.log(np.abs(corr) + 1e-5)))
    assert score(net, (x, y), "epe_nas") == pytest.approx(want, rel=1e-8)


def test_zen_against_its_formula():
    net = small_cnn()
    torch.manual_seed(3)
    convs = [nn.init.normal_(torch.empty(4, 3, 3, 3)), nn.init.normal_(torch.empty(6, 4, 3, 3))]
    nn.init.normal_(torch.empty(5, 6))  # the classifier's draw comes before the inputs
    x, eps = torch.randn(4, 3, 6, 6), torch.randn(4, 3, 6, 6)

    def feats(v):
        h = F.conv2d(v, convs[0], padding=1)
        h = F.batch_norm(h, None, None, training=True)
        return F.relu(F.conv2d(F.relu(h), convs[1], padding=1))

    def batch_var(v):
        return F.conv2d(v, convs[0], padding=1).var(dim=(0, 2, 3))

    rv = 0.81 + 0.09 * batch_var(x) + 0.1 * batch_var(x + 0.01 * eps)  # momentum 0.1, twice
    want = torch.log((feats(x) - feats(x + 0.01 * eps)).abs().flatten(1).sum(1).mean())
    want = want + torch.log(rv.mean().sqrt())
    assert score(net, (4, 3, 6, 6), "zen", seed=3) == pytest.approx(float(want), rel=1e-5)


def test_static_proxies():
    net = small_cnn()
    n_params = sum(p.numel() for p in net.parameters())
    assert score(net, (3, 6, 6), "params") == n_params
    macs = 4 * 3 * 9 * 36 + 6 * 4 * 9 * 36 + 6 * 5
    assert score(net, (3, 6, 6), "flops") == 2 * macs
    norms = sum(float(net[i].weight.detach().norm()) for i in (0, 3, 7))
    assert score(net, (3, 6, 6), "l2_norm") == pytest.approx(float(norms), rel=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_and_leaves_the_model_unchanged(name):
    net = small_cnn().eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    flags = [p.requires_grad for p in net.parameters()]
    a = score(net, minibatch(), name, seed=7)
    b = score(net, minibatch(), name, seed=7)
    assert a == b and math.isfinite(a)
    assert not net.training
    assert [p.requires_grad for p in net.parameters()] == flags
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_zen_seed_changes_the_draw():
    net = small_cnn()
    assert score(net, (3, 6, 6), "zen", seed=1) != score(net, (3, 6, 6), "zen", seed=2)


@pytest.mark.parametrize("name", ["snip", "grad_norm", "fisher", "grasp", "plain"])
def test_gradient_proxies_work_on_frozen_weights(name):
    net = small_cnn().requires_grad_(False)
    assert score(net, minibatch(), name) != 0.0
    assert not any(p.requires_grad for p in net.parameters())


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((nn.ReLU(), (3, 6, 6), "synflow"), {}, "model: expected an nn.Module with parameters"),
        (("not a model", (3, 6, 6), "synflow"), {}, "model: expected a torch.nn.Module"),
        ((small_cnn(), (3, 6, 6), "nope"), {}, "proxy: expected one of"),
        ((small_cnn(), (3, 6, 6), "snip"), {}, "batch: snip needs a minibatch"),
        ((small_cnn(), minibatch()[0], "snip"), {}, "batch: snip needs labels"),
        ((small_cnn(), (torch.randn(4, 2, 6, 6), torch.zeros(4).long()), "snip"), {},
         "batch: the model rejected inputs of shape"),
        ((small_cnn(), (3, 6), "synflow"), {}, "batch: the model rejected inputs"),
        ((small_cnn(), (torch.randn(4, 3, 6, 6), torch.full((4,), 9)), "snip"), {},
         r"batch: expected labels y in \[0, 5\)"),
        ((small_cnn(), (torch.randn(4, 3, 6, 6), torch.zeros(3).long()), "snip"), {},
         r"batch: expected labels y of shape \[4\]"),
        ((small_cnn(), (torch.randn(4, 3, 6, 6), torch.zeros(4)), "snip"), {},
         "batch: expected integer class labels"),
        ((small_cnn(), (3, 0, 6), "synflow"), {}, "batch: expected an input shape"),
        ((small_cnn(), "x", "synflow"), {}, "batch: expected"),
        ((small_cnn(), (3, 6, 6), "zen"), {"seed": "1"}, "seed: expected an int"),
        ((small_cnn(), minibatch(), "snip"), {"loss_fn": 3}, "loss_fn: expected a callable"),
        ((nn.Sequential(nn.BatchNorm2d(3)), (3, 6, 6), "synflow"), {},
         "model: synflow needs at least one convolution"),
        ((nn.Sequential(nn.Linear(3, 2), nn.Tanh()), torch.randn(4, 3), "nwot"), {},
         "model: nwot needs nn.ReLU modules"),
        ((nn.Linear(3, 2), (3,), "zen"), {}, "model: zen needs the features"),
        ((small_cnn(), minibatch(n=1), "jacov"), {}, "batch: jacov needs at least 2 inputs"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_value_error(args, kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        score(*args, **kwargs)
    assert "\n" not in str(info.value)


class NaNNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x) * float("nan")


def test_nan_score_is_a_value_error_unless_allowed():
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match="score: snip is nan"):
        score(NaNNet(), (x, y), "snip")
    assert math.isnan(score(NaNNet(), (x, y), "snip", allow_nan=True))
    with pytest.raises(ValueError, match="batch: inputs x hold NaN"):
        score(nn.Linear(3, 2), (torch.full((2, 3), float("nan")), torch.tensor([0, 1])), "snip")
