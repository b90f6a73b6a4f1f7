import pytest
import torch

CUDA = torch.cuda.is_available()
requires_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")


def devices() -> list[str]:
    return ["cpu", "cuda"] if CUDA else ["cpu"]


DARTS_EDGE_CPU_LAYOUTS = ("nchw", "nhwc")


@pytest.fixture(params=DARTS_EDGE_CPU_LAYOUTS)
def darts_edge_cpu_layout(request):
    """Forces the fused DARTS edge's CPU kernels to one layout (NCHW planes or channels-innermost)
    for the test; channel counts that are not a whole vector (C=6, or C=4 in float32) run NCHW
    under both."""
    from nasfast import _C

    old = _C._darts_edge_layout(request.param)
    yield request.param
    _C._darts_edge_layout(old)


# For tests whose result depends on the CPU kernels that run: each runs once per layout.
each_cpu_layout = pytest.mark.usefixtures("darts_edge_cpu_layout")
