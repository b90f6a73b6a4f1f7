"""Zero-cost scores of NB201 cells: the batched supernet passes against the per-candidate loop."""

import numpy as np
import pytest
import torch

from nasfast.estimate.zero_cost.nb201 import arch_seed, score_nb201
from nasfast.nn import NB201Supernet


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # tiny ops: one thread avoids OpenMP barrier waits on a loaded machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


BATCHED = ["synflow", "snip", "grad_norm", "plain", "fisher"]


def population(P: int = 7, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    archs = torch.randint(0, 5, (P, 6), generator=g)
    archs[0] = 0  # all none: only the skeleton's weights get gradients
    archs[1] = archs[2]  # a duplicate
    archs[3] = torch.tensor([3, 0, 0, 0, 0, 2])  # dead edge 0: node 1 feeds nothing
    return archs


def tiny_supernet(seed: int = 0) -> NB201Supernet:
    torch.manual_seed(seed)
    return NB201Supernet(C=4, N=1, num_classes=5).double()


def minibatch(B: int = 3, size: int = 6):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(B, 3, size, size, generator=g, dtype=torch.float64)
    return x, torch.randint(0, 5, (B,), generator=g)


def test_batched_equals_the_loop_twin_in_float64():
    net, archs = tiny_supernet(), population()
    batched = score_nb201(archs, minibatch(), BATCHED, supernet=net, chunk=4)
    loop = score_nb201(archs, minibatch(), BATCHED, supernet=net, backend="loop")
    for name in BATCHED:
        np.testing.assert_allclose(batched[name], loop[name], rtol=1e-10, err_msg=name)
    assert batched["snip"][1] == batched["snip"][2]
    assert batched["synflow"][0] == 0.0  # no path from the input to the output
    assert batched["snip"][0] == 0.0 and batched["snip"][1] > 0.0


def test_batched_synflow_needs_only_a_shape():
    net, archs = tiny_supernet(), population()
    a = score_nb201(archs, (3, 8, 8), "synflow", supernet=net)["synflow"]
    b = score_nb201(archs, (3, 8, 8), "synflow", supernet=net, backend="loop")["synflow"]
    assert a[0] == 0.0 and a[1] > 0.0
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_float32_supernet_is_close_to_the_loop():
    net, archs = tiny_supernet().float(), population(4)
    x, y = minibatch()
    a = score_nb201(archs, (x.float(), y), ["snip", "fisher"], supernet=net)
    b = score_nb201(archs, (x.float(), y), ["snip", "fisher"], supernet=net, backend="loop")
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-7)


def test_other_proxies_run_through_the_loop():
    net, archs = tiny_supernet(), population(4)
    out = score_nb201(archs[1:], minibatch(), ["params", "nwot", "snip"], supernet=net)
    assert set(out) == {"params", "nwot", "snip"}
    assert out["params"][0] == out["params"][1]  # archs[1] == archs[2]


def test_independent_init_is_seeded_per_architecture():
    archs = population(5)[1:]
    kw = {"init": "independent", "backend": "loop", "C": 4, "N": 1}
    a = score_nb201(archs, (3, 8, 8), "synflow", seed=3, **kw)["synflow"]
    b = score_nb201(archs.flip(0), (3, 8, 8), "synflow", seed=3, **kw)["synflow"]
    c = score_nb201(archs, (3, 8, 8), "synflow", seed=4, **kw)["synflow"]
    np.testing.assert_array_equal(a, b[::-1])
    assert not np.array_equal(a, c)
    assert arch_seed(3, (0, 0, 0, 0, 0, 1)) != arch_seed(3, (0, 0, 0, 0, 1, 0))


def test_default_supernet_is_built_under_the_seed():
    archs = population(4)
    a = score_nb201(archs, minibatch(), "snip", C=4, N=1, num_classes=5, seed=2)["snip"]
    b = score_nb201(archs, minibatch(), "snip", C=4, N=1, num_classes=5, seed=2)["snip"]
    np.testing.assert_array_equal(a, b)


def test_nan_score_names_the_architecture():
    archs = torch.zeros(2, 6, dtype=torch.long)  # output does not depend on the input
    with pytest.raises(ValueError, match=r"score: jacov is nan for archs\[0\]"):
        score_nb201(archs, minibatch(), "jacov", supernet=tiny_supernet())
    out = score_nb201(archs, minibatch(), "jacov", supernet=tiny_supernet(), allow_nan=True)
    assert np.isnan(out["jacov"]).all()


@pytest.mark.parametrize(
    ("archs", "batch", "proxies", "kwargs", "match"),
    [
        ([[0, 1, 2]], (3, 8, 8), "synflow", {}, r"archs: expected shape \[P, 6\]"),
        ([[0, 1, 2, 3, 4, 5]], (3, 8, 8), "synflow", {}, "archs: expected op codes in 0..4"),
        ([[0] * 6], (3, 8, 8), "snip", {}, "batch: snip needs a minibatch"),
        ([[0] * 6], (3, 8, 8), [], {}, "proxies: expected at least one"),
        ([[0] * 6], (3, 8, 8), "synflow", {"init": "x"}, "init: expected one of"),
        ([[0] * 6], (3, 8, 8), "synflow", {"backend": "x"}, "backend: expected one of"),
        ([[0] * 6], (3, 8, 8), "synflow", {"init": "independent"}, "init: 'independent'"),
        ([[0] * 6], (3, 8, 8), "synflow", {"chunk": 0}, "chunk: expected an int >= 1"),
        ([[0] * 6], (3, 8, 8), "synflow", {"supernet": 3}, "supernet: expected an NB201"),
        ([[0] * 6], (4, 8, 8), "synflow", {"supernet": NB201Supernet(C=4, N=1)},
         r"batch: expected images of shape \(3, H, W\)"),
    ],
)  # fmt: skip
def test_bad_input(archs, batch, proxies, kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        score_nb201(archs, batch, proxies, **kwargs)
    assert "\n" not in str(info.value)


def test_float32_synflow_matches_the_float64_loop():
    # C=16 N=5 overflows float32 without the pass's per-row rescaling
    torch.manual_seed(0)
    net = NB201Supernet(C=16, N=5)
    archs = torch.tensor([[3, 3, 3, 3, 3, 3], [1, 2, 3, 4, 1, 3]])
    a = score_nb201(archs, (3, 8, 8), "synflow", supernet=net)["synflow"]
    b = score_nb201(archs, (3, 8, 8), "synflow", supernet=net, backend="loop")["synflow"]
    assert b.max() > 1e38
    np.testing.assert_allclose(a, b, rtol=1e-4)


def test_feature_matrix_for_predictors():
    from nasfast.estimate.zero_cost.features import nb201_features

    archs = population(4)
    f = nb201_features(archs, ["synflow", "params", "jacov"], images=3, C=4, N=1)
    assert f.shape == (4, 3) and np.isnan(f[0, 2])  # archs[0]: jacov undefined
    assert f[1, 1] > f[0, 1]  # more parameters than the all-none cell
    g = nb201_features(archs, ["synflow", "params", "jacov"], images=3, C=4, N=1)
    np.testing.assert_array_equal(np.nan_to_num(f), np.nan_to_num(g))


def test_bench_case_pairs_agree():
    from nasfast.bench.cases.zero_cost import saliency_pair, synflow_pair

    archs = population(4)
    fast, loop = synflow_pair(archs, 4, 1, torch.float64)
    np.testing.assert_allclose(fast().numpy(), loop(), rtol=1e-10)
    fast, loop = saliency_pair(archs, 4, 1, 2, ("snip", "fisher"))
    got = fast()
    want = np.array(loop())
    np.testing.assert_allclose(got["snip"].numpy(), want[:, 0], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(got["fisher"].numpy(), want[:, 1], rtol=1e-3, atol=1e-6)
