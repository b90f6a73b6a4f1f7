"""The fused DARTS edge's two CPU kernel layouts (NCHW planes, channels-innermost): the choice
between them, and that they agree. Each test forces the layouts it compares."""

from __future__ import annotations

import pytest
import torch
from darts_edge_helpers import DT, assert_same, bitwise_equal, fused_step, pair, weights

from nasfast import _C
from nasfast.nn.darts_edge import cpu_kernels_channels_last


@pytest.mark.parametrize("layout", ["auto", "nchw"])
@pytest.mark.parametrize("stride", [1, 2])
def test_output_and_grad_x_follow_the_input_memory_format(layout, stride):
    # as conv2d: a channels-last x gives a channels-last output and grad x (with the channels-last
    # kernels, C=16 under "auto", no layout change runs at all), a contiguous x contiguous ones;
    # the values are the same bits
    old = _C._darts_edge_layout(layout)
    try:
        _, fused = pair(16, stride, True)
        gen = torch.Generator().manual_seed(3)
        x = torch.randn(2, 16, 6, 8, dtype=DT, generator=gen)
        g = torch.randn(2, 16, 6 // stride, 8 // stride, dtype=DT, generator=gen)
        runs = []
        for fmt in (torch.contiguous_format, torch.channels_last):
            xi = x.contiguous(memory_format=fmt).detach().requires_grad_()
            y = fused(xi, weights("soft"))
            y.backward(g)
            assert y.is_contiguous(memory_format=fmt) and xi.grad.is_contiguous(memory_format=fmt)
            runs.append((y.detach(), xi.grad))
        assert not runs[1][0].is_contiguous()
        assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    finally:
        _C._darts_edge_layout(old)


@pytest.mark.parametrize("stride", [1, 2])
def test_layouts_agree_float32(stride):
    # each layout against the reference: test_float32_close
    a, b = (
        fused_step("nchw", 16, 8, 10, stride, torch.float32),
        fused_step("nhwc", 16, 8, 10, stride, torch.float32),
    )
    assert not bitwise_equal(a, b)  # two different kernel sets ran
    assert_same(a, b, tol=dict(rtol=1e-4, atol=1e-4))


def test_auto_layout_follows_channel_count():
    # channels-last from 16 channels (a whole number of vectors), NCHW below
    for H in (8, 20):
        assert bitwise_equal(fused_step("auto", 16, H, H), fused_step("nhwc", 16, H, H))
    assert not bitwise_equal(fused_step("nhwc", 16, 8, 8), fused_step("nchw", 16, 8, 8))
    assert bitwise_equal(fused_step("auto", 8, 8, 8), fused_step("nchw", 8, 8, 8))
    assert bitwise_equal(fused_step("nhwc", 6, 8, 8), fused_step("nchw", 6, 8, 8))


@pytest.mark.parametrize(
    "C, dtype", [(16, torch.float32), (8, torch.float32), (20, torch.float32), (20, DT), (12, DT)]
)
def test_cpu_kernels_channels_last_mirrors_the_automatic_choice(C, dtype):
    # the Python rule (used to run the DARTS search network channels-last) against the C++ one:
    # the automatic choice gives the NCHW kernels' bits exactly when the rule says NCHW
    auto, nchw = (
        fused_step("auto", C, 8, 8, dtype=dtype),
        fused_step("nchw", C, 8, 8, dtype=dtype),
    )
    assert bitwise_equal(auto, nchw) != cpu_kernels_channels_last(C, dtype)
    assert cpu_kernels_channels_last(16, torch.bfloat16) and not cpu_kernels_channels_last(8, DT)


def test_channels_last_results_do_not_depend_on_thread_count():
    # every reduction of the channels-last kernels (and, at 8 float64 channels, every GEMM) runs
    # in a fixed order, so 1 and 2 threads give the same bits (the layout is forced below)
    n = torch.get_num_threads()
    try:
        runs = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            runs.append([fused_step("nhwc", 8, 10, 12, s) for s in (1, 2)])
    finally:
        torch.set_num_threads(n)
    for a, b in zip(*runs, strict=True):
        assert bitwise_equal(a, b)


def test_layout_setting():
    old = _C._darts_edge_layout()
    assert old in ("auto", "nchw", "nhwc")
    assert _C._darts_edge_layout("nhwc") == old
    assert _C._darts_edge_layout(old) == "nhwc"
    with pytest.raises(ValueError, match="layout: expected 'auto', 'nchw' or 'nhwc'"):
        _C._darts_edge_layout("NHWC")
    assert _C._darts_edge_layout() == old
