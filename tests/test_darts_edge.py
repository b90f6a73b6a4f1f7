"""The fused DARTS edge against its reference twin (float64), opcheck, validation, saved bytes.

Every test runs once per CPU layout of the fused op (NCHW planes, channels-innermost), forced
through ``nasfast._C._darts_edge_layout``; channel counts that are not a whole vector (C=6, or
C=4 in float32) run NCHW under both."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import devices, requires_cuda

from nasfast import _C
from nasfast.bench.saved_bytes import saved_tensor_bytes
from nasfast.nn import PRIMITIVES, DartsEdge
from nasfast.nn.darts_edge import cpu_kernels_channels_last
from nasfast.ops.darts_edge import NUM_SLOTS

DT = torch.float64
TOL = dict(rtol=1e-9, atol=1e-11)
LAYOUTS = ("nchw", "nhwc")


@pytest.fixture(autouse=True, params=LAYOUTS)
def cpu_layout(request):
    old = _C._darts_edge_layout(request.param)
    yield request.param
    _C._darts_edge_layout(old)


def _pair(C: int, stride: int, train: bool, seed: int = 0, dtype=DT):
    torch.manual_seed(seed)
    ref = DartsEdge(C, stride, backend="reference").to(dtype)
    fused = DartsEdge(C, stride, backend="fused").to(dtype)
    fused.load_state_dict(ref.state_dict())
    ref.train(train)
    fused.train(train)
    if not train:  # non-trivial running statistics
        with torch.no_grad():
            for (_, a), (_, b) in zip(ref.named_buffers(), fused.named_buffers(), strict=True):
                if a.is_floating_point():
                    a.uniform_(0.5, 1.5)
                    b.copy_(a)
    return ref, fused


def _step(
    m: DartsEdge, x: torch.Tensor, w: torch.Tensor, g_seed: int = 1, single_path=False, g_dtype=None
):
    """One forward+backward; the output gradient is drawn in ``g_dtype`` (default: the output's
    dtype) and cast to the output's dtype."""
    x = x.detach().clone().requires_grad_()
    w = w.detach().clone().requires_grad_()
    y = m(x, w, single_path=single_path)
    gen = torch.Generator().manual_seed(g_seed)
    g = torch.randn(y.shape, generator=gen, dtype=g_dtype or y.dtype).to(y.dtype)
    y.backward(g.to(y.device))
    grads = {n: p.grad for n, p in m.named_parameters()}
    return y.detach(), x.grad, w.grad, grads, {n: b.clone() for n, b in m.named_buffers()}


def _assert_same(a, b, tol=TOL):
    ya, gxa, gwa, pa, ba = a
    yb, gxb, gwb, pb, bb = b
    torch.testing.assert_close(yb, ya, **tol)
    torch.testing.assert_close(gxb, gxa, **tol)
    torch.testing.assert_close(gwb, gwa, **tol)
    assert pa.keys() == pb.keys()
    for n in pa:
        if pa[n] is None:
            assert pb[n] is None, n
        else:
            assert pb[n] is not None, n
            torch.testing.assert_close(pb[n], pa[n], **tol, msg=lambda m, n=n: f"{n}: {m}")
    assert list(ba) == list(bb)
    for n in ba:
        torch.testing.assert_close(bb[n], ba[n], **tol, msg=lambda m, n=n: f"{n}: {m}")


def _weights(kind: str, seed: int = 2) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    w = torch.softmax(torch.randn(8, generator=gen, dtype=DT), 0)
    if kind == "onehot":
        return torch.zeros(8, dtype=DT).index_fill_(0, torch.tensor([5]), 1.0)
    if kind == "zeros":
        return w * torch.tensor([1, 0, 1, 0, 1, 0, 0, 1], dtype=DT)
    return w


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize(
    ("stride", "shape"),
    [
        (1, (3, 8, 10, 12)),
        (2, (3, 8, 10, 12)),
        (1, (1, 4, 6, 8)),
        (2, (1, 4, 6, 8)),
        (1, (2, 6, 7, 9)),
        (2, (2, 4, 14, 36)),
        # channels-last GEMMs with 3 vectors of channels, and 8 (column blocks), in float64;
        # 17 vectors: the GEMMs go to ATen
        (1, (2, 12, 5, 7)),
        (2, (2, 32, 6, 6)),
        (1, (2, 68, 4, 4)),
    ],
    ids=["s1", "s2", "s1-batch1", "s2-batch1", "s1-odd", "s2-wide", "s1-c12", "s2-c32", "s1-c68"],
)
def test_matches_reference(stride, train, shape):
    # odd H/W at stride 2 is refused by both backends: test_odd_stride2_refused
    ref, fused = _pair(shape[1], stride, train)
    x = torch.randn(shape, dtype=DT)
    w = _weights("soft")
    _assert_same(_step(ref, x, w), _step(fused, x, w))


def test_parametrized_conv_weight():
    # the fused backend reads conv weights by a dict lookup; a parametrized weight is a property
    # instead, and must still be used (and get its gradient through the parametrization)
    from torch.nn.utils import parametrize

    class Double(torch.nn.Module):
        def forward(self, w):
            return 2 * w

    ref, fused = _pair(8, 1, True)
    for m in (ref, fused):
        parametrize.register_parametrization(m.ops[4].op[2], "weight", Double())
    x = torch.randn(2, 8, 6, 6, dtype=DT)
    _assert_same(_step(ref, x, _weights("soft")), _step(fused, x, _weights("soft")))


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("layout", ["transposed", "sliced", "channels_last"])
def test_strided_inputs(stride, layout):
    ref, fused = _pair(4, stride, True)
    if layout == "transposed":
        x = torch.randn(2, 4, 8, 6, dtype=DT).transpose(2, 3)
    elif layout == "sliced":
        x = torch.randn(2, 8, 6, 16, dtype=DT)[:, ::2, :, ::2]
    else:
        x = torch.randn(2, 4, 6, 8, dtype=DT).to(memory_format=torch.channels_last)
    assert not x.is_contiguous()
    w = _weights("soft")
    _assert_same(_step(ref, x, w), _step(fused, x, w))


@pytest.mark.parametrize("layout", ["auto", "nchw"])
@pytest.mark.parametrize("stride", [1, 2])
def test_output_and_grad_x_follow_the_input_memory_format(layout, stride):
    # as conv2d: a channels-last x gives a channels-last output and grad x (with the channels-last
    # kernels, C=16 under "auto", no layout change runs at all), a contiguous x contiguous ones;
    # the values are the same bits
    old = _C._darts_edge_layout(layout)
    try:
        _, fused = _pair(16, stride, True)
        gen = torch.Generator().manual_seed(3)
        x = torch.randn(2, 16, 6, 8, dtype=DT, generator=gen)
        g = torch.randn(2, 16, 6 // stride, 8 // stride, dtype=DT, generator=gen)
        runs = []
        for fmt in (torch.contiguous_format, torch.channels_last):
            xi = x.contiguous(memory_format=fmt).detach().requires_grad_()
            y = fused(xi, _weights("soft"))
            y.backward(g)
            assert y.is_contiguous(memory_format=fmt) and xi.grad.is_contiguous(memory_format=fmt)
            runs.append((y.detach(), xi.grad))
        assert not runs[1][0].is_contiguous()
        assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    finally:
        _C._darts_edge_layout(old)


@pytest.mark.parametrize("C", [16, 4])
def test_opcheck_channels_last_input(C):
    # the fake implementations give the real outputs' memory formats
    torch.manual_seed(0)
    m = DartsEdge(C, 1).to(DT)
    x = torch.randn(2, C, 6, 6, dtype=DT).to(memory_format=torch.channels_last)
    cw = m._conv_weights()
    args = (x, _weights("soft"), cw, x.new_empty(0), 1, True, 1e-5, 255, True)
    torch.library.opcheck(torch.ops.nasfast.darts_edge_forward.default, args)
    out, stats, saved = torch.ops.nasfast.darts_edge_forward(*args)
    g = torch.randn_like(out)
    bargs = (g, x, _weights("soft"), [c.detach() for c in cw], stats, saved, 1, True, 255)
    for need in [(True, True, True), (False, True, False)]:
        torch.library.opcheck(torch.ops.nasfast.darts_edge_backward.default, (*bargs, *need))


def _fused_step(layout: str, C: int, H: int, W: int, stride: int = 1, dtype=DT):
    old = _C._darts_edge_layout(layout)
    try:
        _, fused = _pair(C, stride, True, dtype=dtype)
        x = torch.randn(3, C, H, W, dtype=dtype, generator=torch.Generator().manual_seed(5))
        return _step(fused, x, _weights("soft").to(dtype))
    finally:
        _C._darts_edge_layout(old)


def _bitwise_equal(a, b) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a[:3], b[:3], strict=True)) and all(
        torch.equal(a[3][n], b[3][n]) for n in a[3]
    )


@pytest.mark.parametrize("stride", [1, 2])
def test_layouts_agree_float32(stride):
    ref, fused = _pair(16, stride, True, dtype=torch.float32)
    x = torch.randn(4, 16, 8, 10)
    w = _weights("soft").float()
    a, b = (
        _fused_step("nchw", 16, 8, 10, stride, torch.float32),
        _fused_step("nhwc", 16, 8, 10, stride, torch.float32),
    )
    assert not _bitwise_equal(a, b)  # two different kernel sets ran
    _assert_same(a, b, tol=dict(rtol=1e-4, atol=1e-4))
    _assert_same(_step(ref, x, w), _step(fused, x, w), tol=dict(rtol=1e-4, atol=1e-4))


def test_auto_layout_follows_channel_count():
    # channels-last from 16 channels (a whole number of vectors), NCHW below
    for H in (8, 20):
        assert _bitwise_equal(_fused_step("auto", 16, H, H), _fused_step("nhwc", 16, H, H))
    assert not _bitwise_equal(_fused_step("nhwc", 16, 8, 8), _fused_step("nchw", 16, 8, 8))
    assert _bitwise_equal(_fused_step("auto", 8, 8, 8), _fused_step("nchw", 8, 8, 8))
    assert _bitwise_equal(_fused_step("nhwc", 6, 8, 8), _fused_step("nchw", 6, 8, 8))


@pytest.mark.parametrize(
    "C, dtype", [(16, torch.float32), (8, torch.float32), (20, torch.float32), (20, DT), (12, DT)]
)
def test_cpu_kernels_channels_last_mirrors_the_automatic_choice(C, dtype):
    # the Python rule (used to run the DARTS search network channels-last) against the C++ one:
    # the automatic choice gives the NCHW kernels' bits exactly when the rule says NCHW
    auto, nchw = (
        _fused_step("auto", C, 8, 8, dtype=dtype),
        _fused_step("nchw", C, 8, 8, dtype=dtype),
    )
    assert _bitwise_equal(auto, nchw) != cpu_kernels_channels_last(C, dtype)
    assert cpu_kernels_channels_last(16, torch.bfloat16) and not cpu_kernels_channels_last(8, DT)


def test_channels_last_results_do_not_depend_on_thread_count():
    # every reduction of the channels-last kernels (and, at 8 float64 channels, every GEMM) runs
    # in a fixed order, so 1 and 2 threads give the same bits (the layout is forced below)
    n = torch.get_num_threads()
    try:
        runs = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            runs.append([_fused_step("nhwc", 8, 10, 12, s) for s in (1, 2)])
    finally:
        torch.set_num_threads(n)
    for a, b in zip(*runs, strict=True):
        assert _bitwise_equal(a, b)


def test_layout_setting():
    old = _C._darts_edge_layout()
    assert old in ("auto", "nchw", "nhwc")
    assert _C._darts_edge_layout("nhwc") == old
    assert _C._darts_edge_layout(old) == "nhwc"
    with pytest.raises(ValueError, match="layout: expected 'auto', 'nchw' or 'nhwc'"):
        _C._darts_edge_layout("NHWC")
    assert _C._darts_edge_layout() == old


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("kind", ["onehot", "zeros"])
def test_special_weights(stride, kind):
    ref, fused = _pair(4, stride, True)
    x = torch.randn(2, 4, 6, 6, dtype=DT)
    w = _weights(kind)
    _assert_same(_step(ref, x, w), _step(fused, x, w))


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("j", range(len(PRIMITIVES)))
def test_single_path(stride, j):
    ref, fused = _pair(4, stride, True)
    x = torch.randn(2, 4, 6, 6, dtype=DT)
    w = torch.zeros(8, dtype=DT)
    w[j] = 1.0
    _assert_same(_step(ref, x, w, single_path=True), _step(fused, x, w, single_path=True))


def test_running_stats_over_steps():
    ref, fused = _pair(4, 2, True)
    for i in range(3):
        x = torch.randn(2, 4, 6, 6, dtype=DT) * (i + 1)
        _step(ref, x, _weights("soft", i))
        _step(fused, x, _weights("soft", i))
    for (n, a), (_, b) in zip(ref.named_buffers(), fused.named_buffers(), strict=True):
        torch.testing.assert_close(b, a, **TOL, msg=lambda m, n=n: f"{n}: {m}")
    assert int(fused.ops[4].op[3].num_batches_tracked) == 3
    ref.eval()
    fused.eval()
    x = torch.randn(2, 4, 6, 6, dtype=DT)
    _assert_same(_step(ref, x, _weights("soft")), _step(fused, x, _weights("soft")))


def test_float32_close():
    ref, fused = _pair(8, 1, True, dtype=torch.float32)
    x = torch.randn(4, 8, 12, 12)
    w = _weights("soft").float()
    _assert_same(_step(ref, x, w), _step(fused, x, w), tol=dict(rtol=1e-4, atol=1e-4))


def test_state_dict_names_cross():
    for s in (1, 2):
        a = DartsEdge(4, s, backend="reference").state_dict()
        b = DartsEdge(4, s, backend="fused").state_dict()
        assert list(a) == list(b)
        DartsEdge(4, s, backend="reference").load_state_dict(b)


def test_odd_stride2_refused():
    for backend in ("reference", "fused"):
        m = DartsEdge(4, 2, backend=backend)
        with pytest.raises(ValueError, match="even H and W"):
            m(torch.randn(2, 4, 7, 8), _weights("soft").float())


@pytest.mark.parametrize("backend", ["reference", "fused"])
def test_bad_input(backend):
    m = DartsEdge(4, 1, backend=backend)
    w = _weights("soft").float()
    with pytest.raises(ValueError, match="^x: expected 4 channels"):
        m(torch.randn(2, 3, 6, 6), w)
    with pytest.raises(ValueError, match="^x: expected a 4-D"):
        m(torch.randn(4, 6, 6), w)
    with pytest.raises(ValueError, match="^weights: expected shape"):
        m(torch.randn(2, 4, 6, 6), w[:7])
    with pytest.raises(ValueError, match="^weights: expected device"):
        m(torch.randn(2, 4, 6, 6), w.to("meta"))


def test_fused_dtype_refused():
    m = DartsEdge(4, 1).to(torch.float16)
    with pytest.raises(ValueError, match="^x: the fused DartsEdge supports"):
        m(torch.randn(2, 4, 6, 6, dtype=torch.float16), _weights("soft").half())


def _bf16_pair(stride: int, train: bool, device: str = "cpu"):
    """A float32 fused edge whose parameters and buffers are bfloat16 values, and its bfloat16
    copy: both hold the same numbers."""
    _, m32 = _pair(8, stride, train, dtype=torch.float32)
    with torch.no_grad():
        for t in [*m32.parameters(), *m32.buffers()]:
            if t.is_floating_point():
                t.copy_(t.bfloat16().float())
    return m32.to(device), copy.deepcopy(m32).to(torch.bfloat16).to(device)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("train", [True, False])
def test_bf16_is_float32_on_the_same_values(stride, train):
    # a bfloat16 edge computes in float32: its outputs and gradients are the float32 edge's,
    # rounded to bfloat16, bit for bit
    m32, m16 = _bf16_pair(stride, train)
    x = torch.randn(3, 8, 6, 8).bfloat16()
    w = _weights("soft").bfloat16()
    # the same bfloat16 output gradient for both
    a = _step(m32, x.float(), w.float(), g_dtype=torch.bfloat16)
    b = _step(m16, x, w)
    for name, got, want in zip(("out", "grad x", "grad w"), b[:3], a[:3], strict=True):
        assert got.dtype == torch.bfloat16, name
        assert torch.equal(got, want.bfloat16()), name
    assert a[3].keys() == b[3].keys()
    for n in a[3]:
        assert (a[3][n] is None) == (b[3][n] is None), n
        if a[3][n] is not None:
            assert torch.equal(b[3][n], a[3][n].bfloat16()), n
    for n in a[4]:  # running statistics: updated in bfloat16 arithmetic
        torch.testing.assert_close(b[4][n].float(), a[4][n].float(), rtol=2e-2, atol=1e-2)


def test_bf16_close_to_float64_reference():
    ref, _ = _pair(8, 1, True)
    _, m16 = _bf16_pair(1, True)
    ref.load_state_dict({k: v.double() for k, v in m16.state_dict().items()})
    x = torch.randn(4, 8, 8, 8).bfloat16()
    w = _weights("soft").bfloat16()
    a = _step(ref, x.double(), w.double(), g_dtype=torch.bfloat16)
    b = _step(m16, x, w)
    for name, got, want in zip(("out", "grad x", "grad w"), b[:3], a[:3], strict=True):
        rel = float((got.double() - want).norm() / want.norm())
        assert rel < 1e-2, (name, rel)


def test_bf16_opcheck():
    m = DartsEdge(8, 1).to(torch.bfloat16)
    x = torch.randn(2, 8, 6, 6, dtype=torch.bfloat16, requires_grad=True)
    w = _weights("soft").bfloat16().requires_grad_()
    args = (x, w, m._conv_weights(), x.new_empty(0), 1, True, 1e-5, 255, True)
    torch.library.opcheck(torch.ops.nasfast.darts_edge_forward.default, args)
    out, stats, saved = torch.ops.nasfast.darts_edge_forward(*args)
    assert (out.dtype, stats.dtype, saved.dtype) == (torch.bfloat16, torch.float32, torch.float32)
    g = torch.randn_like(out)
    cw = [c.detach() for c in m._conv_weights()]
    bargs = (g, x.detach(), w.detach(), cw, stats, saved, 1, True, 255, True, True, True)
    torch.library.opcheck(torch.ops.nasfast.darts_edge_backward.default, bargs)
    with pytest.raises(ValueError, match="^weights: expected dtype"):
        torch.ops.nasfast.darts_edge_forward(x, w.float(), *args[2:])


def test_op_checks_value_errors():
    m = DartsEdge(4, 1)
    x = torch.randn(2, 4, 6, 6)
    with pytest.raises(ValueError, match="conv_weights: expected 12"):
        torch.ops.nasfast.darts_edge_forward(
            x,
            _weights("soft").float(),
            m._conv_weights()[:5],
            x.new_empty(0),
            1,
            True,
            1e-5,
            255,
            True,
        )


def _op_args(stride: int, train: bool, device: str = "cpu", dtype=DT):
    C = 4 if dtype == torch.float64 else 8  # one vector: the channels-last kernels run
    torch.manual_seed(0)
    m = DartsEdge(C, stride).to(dtype).to(device)
    x = torch.randn(2, C, 6, 6, dtype=dtype, device=device, requires_grad=True)
    w = _weights("soft").to(dtype).to(device).requires_grad_()
    cw = m._conv_weights()
    running = (
        x.new_empty(0) if train else torch.rand(2, NUM_SLOTS, C, dtype=dtype, device=device) + 0.5
    )
    return m, x, w, cw, running


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("save", [True, False])
@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_opcheck(stride, train, save, device, dtype):
    m, x, w, cw, running = _op_args(stride, train, device, dtype)
    args = (x, w, cw, running, stride, train, 1e-5, 255, save)
    torch.library.opcheck(torch.ops.nasfast.darts_edge_forward.default, args)
    out, stats, saved = torch.ops.nasfast.darts_edge_forward(*args)
    assert saved.shape == ((6 + (stride == 2), *out.shape) if save else (0,))
    g = torch.randn_like(out)
    bargs = (g, x.detach(), w.detach(), [c.detach() for c in cw], stats, saved, stride, train, 255)
    for need in [
        (True, True, True),
        (True, True, False),
        (False, True, False),
        (True, False, True),
    ]:
        torch.library.opcheck(torch.ops.nasfast.darts_edge_backward.default, (*bargs, *need))


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("active", [255, 1 << 4, 1 << 3, (1 << 6) | (1 << 1)])
def test_backward_with_saved_equals_recompute(stride, active):
    # the kept pointwise outputs are exactly what the backward would recompute from x
    _, x, w, cw, _ = _op_args(stride, True)
    fwd = torch.ops.nasfast.darts_edge_forward
    out, stats, saved = fwd(x, w, cw, x.new_empty(0), stride, True, 1e-5, active, True)
    out2, stats2, none = fwd(x, w, cw, x.new_empty(0), stride, True, 1e-5, active, False)
    assert none.numel() == 0
    torch.testing.assert_close(out2, out, rtol=0, atol=0)
    torch.testing.assert_close(stats2, stats, rtol=0, atol=0)
    g = torch.randn_like(out)
    args = (g, x.detach(), w.detach(), [c.detach() for c in cw], stats)
    for need in [(True, True, True), (True, True, False), (False, True, False)]:
        a = torch.ops.nasfast.darts_edge_backward(*args, saved, stride, True, active, *need)
        b = torch.ops.nasfast.darts_edge_backward(*args, none, stride, True, active, *need)
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_backward_saved_shape_checked():
    _, x, w, cw, _ = _op_args(1, True)
    fwd = torch.ops.nasfast.darts_edge_forward
    out, stats, saved = fwd(x, w, cw, x.new_empty(0), 1, True, 1e-5, 255, True)
    args = (torch.ones_like(out), x.detach(), w.detach(), [c.detach() for c in cw], stats)
    with pytest.raises(ValueError, match="^saved: expected shape"):
        torch.ops.nasfast.darts_edge_backward(*args, saved[1:], 1, True, 255, True, True, True)


def test_saves_only_when_a_backward_can_follow(monkeypatch):
    # the forward op is asked to keep its pointwise outputs only with grad enabled and some
    # input requiring grad
    import nasfast.ops.darts_edge as ops_mod

    asked = []
    real = torch.ops.nasfast.darts_edge_forward

    class Recorder:
        def __call__(self, *args):
            asked.append(args[-1])
            return real(*args)

    monkeypatch.setattr(ops_mod.torch.ops.nasfast, "darts_edge_forward", Recorder())
    m = DartsEdge(4, 1)
    x = torch.randn(2, 4, 6, 6)
    w = _weights("soft").float()
    with torch.no_grad():
        m(x, w)
    m.requires_grad_(False)
    m(x, w)
    m.requires_grad_(True)
    m(x, w)
    assert asked == [False, False, True]
    _, total = saved_tensor_bytes(lambda: m(x, w))
    assert total > 6 * x.numel() * 4  # the six pointwise outputs are kept


@pytest.mark.parametrize("momenta", ["none", "mixed"])
def test_running_stats_any_momentum(momenta):
    # every BatchNorm momentum (None = cumulative average, or differing per slot) as nn.BatchNorm2d
    ref, fused = _pair(4, 1, True)
    for m in (ref, fused):
        for j, b in enumerate(b for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)):
            b.momentum = None if momenta == "none" else 0.05 * (j + 1)
    x = torch.randn(2, 4, 6, 6, dtype=DT)
    for seed in (1, 2):
        _assert_same(
            _step(ref, x * seed, _weights("soft"), seed),
            _step(fused, x * seed, _weights("soft"), seed),
        )


def test_replaced_primitive_is_used():
    # the fused backend caches where its conv weights live; replacing a primitive refreshes it
    ref, fused = _pair(4, 2, True)
    x, w = torch.randn(2, 4, 6, 6, dtype=DT), _weights("soft")
    ref(x, w)
    fused(x, w)
    torch.manual_seed(5)
    new = DartsEdge(4, 2).double()
    for m in (ref, fused):
        m.ops[5] = copy.deepcopy(new.ops[5])
        m.ops[3] = copy.deepcopy(new.ops[3])
    _assert_same(_step(ref, x, w), _step(fused, x, w))


def test_double_backward_refused():
    m = DartsEdge(4, 1)
    x = torch.randn(2, 4, 6, 6, requires_grad=True)
    y = m(x, _weights("soft").float())
    with pytest.raises(RuntimeError, match="double backward"):
        torch.autograd.grad(y.sum(), x, create_graph=True)


def test_compiles_fullgraph():
    ref, fused = _pair(4, 1, True)
    x, w = torch.randn(2, 4, 6, 6, dtype=DT), _weights("soft")
    a = _step(ref, x, w)
    compiled = torch.compile(fused, fullgraph=True, backend="aot_eager")
    y, gx, gw, grads, bufs = _step(compiled, x, w)
    strip = "_orig_mod."
    grads = {k.removeprefix(strip): v for k, v in grads.items()}
    _assert_same(a, (y, gx, gw, grads, {k.removeprefix(strip): v for k, v in bufs.items()}))


def _running_update_args(layout: str, device: str):
    """(means, variances, counts, stats, slots, momentum) and the expected means / variances."""
    C, slots, m = 4, [0, 3, 8], 0.1
    stats = torch.rand(3, NUM_SLOTS, C, dtype=DT, device=device)
    base = torch.rand(2, len(slots), 2 * C, dtype=DT, device=device)
    if layout == "strided":
        means, variances = list(base[0, :, ::2]), list(base[1, :, ::2])
    else:
        dt = DT if layout == "contiguous" else torch.float32
        means, variances = list(base[0, :, :C].to(dt)), list(base[1, :, :C].to(dt))
        if layout == "float32":
            stats = stats.to(dt)
    counts = [torch.tensor(5, device=device) for _ in slots]
    want_m = [
        (1 - m) * t.double() + m * stats[0, s].double() for t, s in zip(means, slots, strict=True)
    ]
    want_v = [
        (1 - m) * t.double() + m * stats[2, s].double()
        for t, s in zip(variances, slots, strict=True)
    ]
    return (means, variances, counts, stats, slots, m), want_m + want_v


RUNNING_LAYOUTS = ["contiguous", "strided", "float32", "mixed_dtype"]


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("layout", RUNNING_LAYOUTS)
def test_running_update_op(layout, device):
    # the op against the nn.BatchNorm2d formula: its raw kernel (CPU loop, one CUDA launch) and
    # its ATen fallback (strided buffers, buffers of another dtype than stats)
    (means, variances, counts, stats, slots, m), want = _running_update_args(layout, device)
    torch.ops.nasfast.darts_edge_running_update(means, variances, counts, stats, slots, m)
    tol = TOL if means[0].dtype == DT else dict(rtol=1e-6, atol=1e-7)
    for got, w in zip(means + variances, want, strict=True):
        torch.testing.assert_close(got.double(), w, **tol)
    assert all(int(c) == 6 for c in counts)
    with pytest.raises(ValueError, match="^slots: expected values in"):
        torch.ops.nasfast.darts_edge_running_update(means, variances, counts, stats, [0, 3, 9], m)
    with pytest.raises(ValueError, match="running_mean, running_var, num_batches_tracked"):
        torch.ops.nasfast.darts_edge_running_update(means[:2], variances, counts, stats, slots, m)


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("layout", RUNNING_LAYOUTS)
def test_running_update_opcheck(layout, device):
    args, _ = _running_update_args(layout, device)
    torch.library.opcheck(torch.ops.nasfast.darts_edge_running_update.default, args)


def test_backward_materialises_no_gradient_for_stats_or_saved():
    # by default autograd hands a custom Function zero-filled gradients for outputs nobody used:
    # here stats and saved (six tensors of the output's size), a large memset every step
    from torch.utils._python_dispatch import TorchDispatchMode

    class FiveD(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            outs = out if isinstance(out, (tuple, list)) else (out,)
            if any(isinstance(t, torch.Tensor) and t.dim() == 5 for t in outs):
                self.ops.append(str(func))
            return out

    _, fused = _pair(4, 1, True)
    x = torch.randn(2, 4, 6, 6, dtype=DT, requires_grad=True)
    y = fused(x, _weights("soft").requires_grad_())
    with FiveD() as mode:
        y.sum().backward()
    assert mode.ops == []
    assert x.grad is not None


def _frozen_step(m: DartsEdge, x, w, need_x: bool, need_w: bool):
    """One backward with every conv weight frozen (the architect's alpha-only pass)."""
    for p in m.parameters():
        p.requires_grad_(False)
    x = x.detach().clone().requires_grad_(need_x)
    w = w.detach().clone().requires_grad_(need_w)
    y = m(x, w)
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=y.dtype)
    # a parameter-free head keeps the graph alive when neither x nor w needs a gradient
    (y * g).sum().backward()
    return x.grad, w.grad, [p.grad for p in m.parameters()]


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize(("need_x", "need_w"), [(True, True), (False, True), (True, False)])
def test_frozen_conv_weights(stride, train, need_x, need_w):
    ref, fused = _pair(4, stride, train)
    x = torch.randn(2, 4, 6, 8, dtype=DT)
    w = _weights("soft")
    gx_r, gw_r, gp_r = _frozen_step(ref, x, w, need_x, need_w)
    gx_f, gw_f, gp_f = _frozen_step(fused, x, w, need_x, need_w)
    assert all(g is None for g in gp_r + gp_f)
    for a, b, need in ((gx_r, gx_f, need_x), (gw_r, gw_f, need_w)):
        if need:
            torch.testing.assert_close(b, a, **TOL)
        else:
            assert a is None and b is None


def test_frozen_conv_weights_skips_their_grads():
    # the backward op is asked for no conv-weight gradient and returns none
    _, x, w, cw, _ = _op_args(2, True)
    out, stats, saved = torch.ops.nasfast.darts_edge_forward(
        x, w, cw, x.new_empty(0), 2, True, 1e-5, 255, True
    )
    args = (
        torch.ones_like(out),
        x.detach(),
        w.detach(),
        [c.detach() for c in cw],
        stats,
        saved,
        2,
        True,
    )
    full = torch.ops.nasfast.darts_edge_backward(*args, 255, True, True, True)
    gx, gw, gcw = torch.ops.nasfast.darts_edge_backward(*args, 255, True, True, False)
    assert gcw == [] and len(full[2]) == 14
    torch.testing.assert_close(gx, full[0], rtol=0, atol=0)
    torch.testing.assert_close(gw, full[1], rtol=0, atol=0)
    _, gw_only, _ = torch.ops.nasfast.darts_edge_backward(*args, 255, False, True, False)
    torch.testing.assert_close(gw_only, full[1], rtol=0, atol=0)


@pytest.mark.parametrize("stride", [1, 2])
def test_saved_bytes_at_most_a_third(stride):
    ref, fused = _pair(8, stride, True, dtype=torch.float32)
    x = torch.randn(4, 8, 16, 16, requires_grad=True)
    w = _weights("soft").float().requires_grad_()
    ref_unique, _ = saved_tensor_bytes(lambda: ref(x, w))
    _, fused_total = saved_tensor_bytes(lambda: fused(x, w))
    # the fused op keeps x, the weights, the conv weights, [3, 9, C] statistics and the
    # pointwise outputs feeding a BatchNorm (6 of x's size at stride 1, 7 of a quarter at 2)
    assert fused_total <= ref_unique / 3, (fused_total, ref_unique)


@requires_cuda
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("train", [True, False])
def test_cuda_matches_cpu_reference(stride, train):
    ref, fused = _pair(4, stride, train)
    fused = fused.cuda()
    x = torch.randn(2, 4, 6, 8, dtype=DT)
    w = _weights("soft")
    a = _step(ref, x, w)
    y, gx, gw, grads, bufs = _step(fused, x.cuda(), w.cuda())
    b = (
        y.cpu(),
        gx.cpu(),
        gw.cpu(),
        {n: g.cpu() for n, g in grads.items()},
        {n: t.cpu() for n, t in bufs.items()},
    )
    _assert_same(a, b)


@requires_cuda
@pytest.mark.parametrize("stride", [1, 2])
def test_cuda_bf16_matches_cpu_bf16(stride):
    # both compute in float32 on the same values; only the summation order differs
    m32, m16 = _bf16_pair(stride, True)
    m16_cuda = copy.deepcopy(m16).cuda()
    x = torch.randn(3, 8, 6, 8).bfloat16()
    w = _weights("soft").bfloat16()
    a = _step(m16, x, w)
    b = _step(m16_cuda, x.cuda(), w.cuda())
    for name, got, want in zip(("out", "grad x", "grad w"), b[:3], a[:3], strict=True):
        assert got.dtype == torch.bfloat16, name
        torch.testing.assert_close(got.cpu(), want, rtol=1.6e-2, atol=1e-2, msg=name)


def test_intermediates_come_from_the_cpu_cache():
    import nasfast

    ref, fused = _pair(16, 1, True, dtype=torch.float32)
    x = torch.randn(4, 16, 8, 8)
    w = _weights("soft").float()

    def step(m):
        m.zero_grad(set_to_none=True)
        y, gx, gw, grads, bufs = _step(m, x, w)
        return y, gx, gw, {n: g.clone() for n, g in grads.items()}, bufs

    nasfast.empty_cpu_cache()
    assert nasfast.cpu_cache_bytes() == 0
    a = step(fused)
    held = nasfast.cpu_cache_bytes()
    # the step's freed intermediates are kept (at least a few of x's size), within the cap
    assert 4 * x.numel() * 4 <= held <= nasfast.max_cpu_cache_bytes()
    b = step(fused)  # reuses them: nothing more held
    assert nasfast.cpu_cache_bytes() == held
    _assert_same(a[:4] + (b[4],), b, tol=dict(rtol=0, atol=0))  # running stats moved on
    nasfast.empty_cpu_cache()
    assert nasfast.cpu_cache_bytes() == 0
    fused.load_state_dict(ref.state_dict())
    _assert_same(step(ref), step(fused), tol=dict(rtol=1e-4, atol=1e-4))
