"""nasfast.ops.mixed_op: fused kernel against its reference twin."""

import pytest
import torch

from nasfast.ops import mixed_op, mixed_op_reference, mixed_op_weights
from tests.conftest import devices, requires_cuda

TOL = {
    torch.float64: dict(rtol=1e-12, atol=1e-12),
    torch.float32: dict(rtol=1e-5, atol=1e-5),
    torch.bfloat16: dict(rtol=2e-2, atol=2e-2),
}


def _inputs(K, shape, dtype=torch.float64, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    outs = [
        torch.randn(shape, generator=g, dtype=torch.float64).to(dtype=dtype, device=device)
        for _ in range(K)
    ]
    alpha = torch.randn(K, generator=g, dtype=torch.float64).to(dtype=dtype, device=device)
    return outs, alpha


def _grads(fn, outs, alpha, grad):
    outs = [o.detach().clone().requires_grad_() for o in outs]
    alpha = alpha.detach().clone().requires_grad_()
    y = fn(outs, alpha)
    y.backward(grad)
    return y.detach(), [o.grad for o in outs], alpha.grad


@pytest.mark.parametrize("mode", ["softmax", "weights"])
def test_gradcheck_float64(mode):
    outs, alpha = _inputs(4, (2, 3, 5))
    outs = [o.requires_grad_() for o in outs]
    alpha.requires_grad_()
    assert torch.autograd.gradcheck(lambda a, *o: mixed_op(list(o), a, mode=mode), (alpha, *outs))


def test_gradcheck_gumbel_with_generator():
    outs, alpha = _inputs(5, (3, 4))
    outs = [o.requires_grad_() for o in outs]
    alpha.requires_grad_()

    def f(a, *o):
        gen = torch.Generator().manual_seed(3)  # same noise on every call
        return mixed_op(list(o), a, mode="gumbel", tau=0.7, generator=gen)

    assert torch.autograd.gradcheck(f, (alpha, *outs))


@pytest.mark.parametrize("seed", range(8))
def test_random_K_and_shapes_match_reference(seed):
    g = torch.Generator().manual_seed(100 + seed)
    K = int(torch.randint(1, 13, (1,), generator=g))
    ndim = int(torch.randint(0, 5, (1,), generator=g))
    shape = tuple(int(s) for s in torch.randint(1, 9, (ndim,), generator=g))
    outs, alpha = _inputs(K, shape, seed=seed)
    grad = torch.randn(shape, dtype=torch.float64)
    y, go, ga = _grads(mixed_op, outs, alpha, grad)
    yr, gor, gar = _grads(mixed_op_reference, outs, alpha, grad)
    torch.testing.assert_close(y, yr, **TOL[torch.float64])
    for a, b in zip(go, gor):
        torch.testing.assert_close(a, b, **TOL[torch.float64])
    torch.testing.assert_close(ga, gar, **TOL[torch.float64])


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_dtypes_match_reference(dtype, device):
    outs, alpha = _inputs(8, (4, 3, 33, 17), dtype=dtype, device=device)
    grad = torch.randn(4, 3, 33, 17, dtype=torch.float64).to(dtype=dtype, device=device)
    y, go, ga = _grads(mixed_op, outs, alpha, grad)
    # The reference computed in float64 is the truth for every dtype.
    y64, go64, ga64 = _grads(
        mixed_op_reference, [o.double() for o in outs], alpha.double(), grad.double()
    )
    tol = TOL[dtype]
    torch.testing.assert_close(y.double(), y64, **tol)
    for a, b in zip(go, go64):
        torch.testing.assert_close(a.double(), b, **tol)
    scale = ga64.abs().max().item()
    assert (ga.double() - ga64).abs().max().item() <= tol["rtol"] * scale * 10 + tol["atol"]
    assert y.dtype == dtype and ga.dtype == dtype


def test_non_contiguous_and_expanded_inputs():
    base, alpha = _inputs(3, (6, 8))
    outs = [
        base[0].t(),  # transposed
        base[1][::2].repeat(2, 1).t(),  # made from a strided slice
        torch.randn(8, 1, dtype=torch.float64).expand(8, 6),  # expanded, stride 0
    ]
    grad = torch.randn(8, 6, dtype=torch.float64)
    y, go, ga = _grads(mixed_op, outs, alpha, grad)
    yr, gor, gar = _grads(mixed_op_reference, outs, alpha, grad)
    torch.testing.assert_close(y, yr)
    torch.testing.assert_close(ga, gar)
    for a, b in zip(go, gor):
        torch.testing.assert_close(a, b)


def test_stacked_tensor_equals_list():
    outs, alpha = _inputs(5, (2, 7))
    stacked = torch.stack(outs)
    torch.testing.assert_close(mixed_op(stacked, alpha), mixed_op(outs, alpha))
    torch.testing.assert_close(
        mixed_op(stacked[:, :, ::2], alpha), mixed_op_reference([o[:, ::2] for o in outs], alpha)
    )


def test_softmax_weights_sum_to_one_and_mode_weights_is_identity():
    _, alpha = _inputs(6, ())
    torch.testing.assert_close(mixed_op_weights(alpha).sum(), torch.tensor(1.0, dtype=alpha.dtype))
    assert mixed_op_weights(alpha, mode="weights") is alpha


def test_gumbel_reproducible_with_generator():
    outs, alpha = _inputs(7, (3, 5))
    a = mixed_op(outs, alpha, mode="gumbel", generator=torch.Generator().manual_seed(11))
    b = mixed_op(outs, alpha, mode="gumbel", generator=torch.Generator().manual_seed(11))
    c = mixed_op(outs, alpha, mode="gumbel", generator=torch.Generator().manual_seed(12))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, c)
    r = mixed_op_reference(outs, alpha, mode="gumbel", generator=torch.Generator().manual_seed(11))
    torch.testing.assert_close(a, r)


def test_gumbel_is_softmax_of_perturbed_logits():
    _, alpha = _inputs(5, ())
    gen = torch.Generator().manual_seed(5)
    noise = -torch.empty_like(alpha).exponential_(generator=gen).log()
    w = mixed_op_weights(alpha, mode="gumbel", tau=0.5, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(w, torch.softmax((alpha + noise) / 0.5, 0))


@pytest.mark.parametrize("seed", range(5))
def test_hard_gumbel_picks_exactly_one_output(seed):
    outs, alpha = _inputs(6, (4, 4), seed=seed)
    alpha.requires_grad_()
    gen = torch.Generator().manual_seed(seed)
    w = mixed_op_weights(alpha, mode="gumbel", hard=True, generator=gen)
    assert sorted(w.detach().tolist()) == [0.0] * 5 + [1.0]
    k = int(w.argmax())
    y = mixed_op(
        outs, alpha, mode="gumbel", hard=True, generator=torch.Generator().manual_seed(seed)
    )
    torch.testing.assert_close(y, outs[k], rtol=0, atol=0)
    y.sum().backward()  # straight-through: the soft weights carry a gradient to every alpha
    assert alpha.grad is not None and torch.count_nonzero(alpha.grad) > 1


def test_only_alpha_or_only_outputs_require_grad():
    outs, alpha = _inputs(3, (5,))
    a = alpha.clone().requires_grad_()
    mixed_op(outs, a).sum().backward()
    ar = alpha.clone().requires_grad_()
    mixed_op_reference(outs, ar).sum().backward()
    torch.testing.assert_close(a.grad, ar.grad)
    o = [x.clone().requires_grad_() for x in outs]
    mixed_op(o, alpha).sum().backward()
    w = torch.softmax(alpha, 0)
    for k in range(3):
        torch.testing.assert_close(o[k].grad, w[k].expand(5))


def test_zero_size_outputs():
    outs = [torch.empty(0, 3, dtype=torch.float64, requires_grad=True) for _ in range(3)]
    alpha = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    y = mixed_op(outs, alpha)
    assert y.shape == (0, 3)
    y.sum().backward()
    torch.testing.assert_close(alpha.grad, torch.zeros(3, dtype=torch.float64))


def test_opcheck():
    outs, alpha = _inputs(4, (3, 5), dtype=torch.float32)
    outs = [o.requires_grad_() for o in outs]
    w = torch.softmax(alpha, 0).detach().requires_grad_()
    torch.library.opcheck(torch.ops.nasfast.mixed_op.default, (outs, w))
    grad = torch.randn(3, 5)
    torch.library.opcheck(
        torch.ops.nasfast.mixed_op_backward.default,
        (grad, [o.detach() for o in outs], w.detach(), True, True),
    )
    torch.library.opcheck(
        torch.ops.nasfast.mixed_op_backward.default,
        (grad, [o.detach() for o in outs], w.detach(), False, True),
    )


@pytest.mark.slow
def test_torch_compile_fullgraph():
    outs, alpha = _inputs(4, (2, 8), dtype=torch.float32)

    @torch.compile(fullgraph=True)
    def f(o0, o1, o2, o3, a):
        return mixed_op([o0, o1, o2, o3], a) * 2

    a = alpha.clone().requires_grad_()
    y = f(*outs, a)
    torch.testing.assert_close(y, 2 * mixed_op_reference(outs, alpha))
    y.sum().backward()
    ar = alpha.clone().requires_grad_()
    (2 * mixed_op_reference(outs, ar)).sum().backward()
    torch.testing.assert_close(a.grad, ar.grad)


@pytest.mark.parametrize(
    "outs, alpha, kwargs, match",
    [
        ([], torch.zeros(0), {}, "outputs: expected a non-empty"),
        (torch.zeros(0, 3), torch.zeros(0), {}, "outputs: expected a stacked"),
        (
            [torch.zeros(2, 3), torch.zeros(3, 2)],
            torch.zeros(2),
            {},
            r"outputs\[1\]: expected shape",
        ),
        ([torch.zeros(2), torch.zeros(2)], torch.zeros(3), {}, r"alpha: expected shape \[2\]"),
        ([torch.zeros(2), torch.zeros(2)], torch.zeros(2, 1), {}, r"alpha: expected shape \[2\]"),
        (
            [torch.zeros(2), torch.zeros(2, dtype=torch.float64)],
            torch.zeros(2),
            {},
            r"outputs\[1\]: expected dtype",
        ),
        ([torch.zeros(2)], torch.zeros(1, dtype=torch.float64), {}, "alpha: expected dtype"),
        (
            [torch.zeros(2, dtype=torch.int64)],
            torch.zeros(1),
            {},
            "outputs\\[0\\]: expected a floating",
        ),
        ([torch.zeros(2)], torch.zeros(1, dtype=torch.int64), {}, "alpha: expected a floating"),
        ([torch.zeros(2), "x"], torch.zeros(2), {}, r"outputs\[1\]: expected a torch.Tensor"),
        ([torch.zeros(2)], torch.zeros(1), {"mode": "max"}, "mode: expected"),
        (
            [torch.zeros(2)],
            torch.zeros(1),
            {"mode": "gumbel", "tau": 0.0},
            "tau: expected a positive",
        ),
        ([torch.zeros(2)], torch.zeros(1), {"backend": "cuda"}, "backend: expected"),
    ],
)
def test_bad_input_raises_value_error_naming_argument(outs, alpha, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mixed_op(outs, alpha, **kwargs)


def test_mixed_devices_raise_value_error():
    meta = torch.zeros(2, device="meta")
    with pytest.raises(ValueError, match=r"outputs\[1\]: expected device cpu"):
        mixed_op([torch.zeros(2), meta], torch.zeros(2))
    with pytest.raises(ValueError, match="alpha: expected device cpu"):
        mixed_op([torch.zeros(2)], torch.zeros(1, device="meta"))


def test_compiled_op_checks_its_own_boundary():
    # Direct torch.ops calls bypass the Python validation; the C++ boundary still refuses.
    with pytest.raises(ValueError, match="weights: expected shape"):
        torch.ops.nasfast.mixed_op([torch.zeros(2)], torch.zeros(2))
    with pytest.raises(ValueError, match="outputs: expected a non-empty"):
        torch.ops.nasfast.mixed_op([], torch.zeros(0))


@requires_cuda
def test_cuda_matches_cpu():
    outs, alpha = _inputs(9, (3, 4, 10, 10), dtype=torch.float32)
    grad = torch.randn(3, 4, 10, 10)
    y, go, ga = _grads(mixed_op, [o.cuda() for o in outs], alpha.cuda(), grad.cuda())
    yc, goc, gac = _grads(mixed_op, outs, alpha, grad)
    torch.testing.assert_close(y.cpu(), yc)
    torch.testing.assert_close(ga.cpu(), gac)
    for a, b in zip(go, goc):
        torch.testing.assert_close(a.cpu(), b)


@requires_cuda
def test_cuda_opcheck():
    outs, alpha = _inputs(4, (3, 5), dtype=torch.float32, device="cuda")
    w = torch.softmax(alpha, 0)
    torch.library.opcheck(torch.ops.nasfast.mixed_op.default, (outs, w))


def test_bfloat16_rounds_the_float_accumulation_once_and_keeps_nan_inf():
    g = torch.Generator().manual_seed(4)
    special = torch.tensor([float("nan"), float("inf"), -float("inf")] + [0.0] * 4997)
    outs = [torch.randn(5000, generator=g).bfloat16() for _ in range(3)] + [special.bfloat16()]
    w = torch.softmax(torch.randn(4, generator=g), 0).bfloat16()
    y = torch.ops.nasfast.mixed_op(outs, w)
    expected = sum(w[k].float() * outs[k].float() for k in range(4)).bfloat16()
    assert y[0].isnan() and y[1] == float("inf") and y[2] == -float("inf")
    torch.testing.assert_close(y[3:], expected[3:], rtol=0, atol=0)
