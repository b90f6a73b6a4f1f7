import pytest
import torch

from nasfast.ops import gather_rows, gather_sum, scatter_rows
from tests.conftest import devices

DTYPES = [torch.float32, torch.float64, torch.bfloat16]


def _tol(dtype):
    return {"atol": 1e-2, "rtol": 1e-2} if dtype == torch.bfloat16 else {}


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("relu", [False, True])
def test_gather_rows_matches_reference(device, dtype, relu):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, 5, 4, generator=g).to(device, dtype)
    idx = torch.tensor([3, 0, 3, 6, 1], device=device)
    out = gather_rows(x, idx, relu=relu)
    ref = gather_rows(x, idx, relu=relu, backend="reference")
    assert out.shape == (5, 3, 5, 4)
    torch.testing.assert_close(out, ref, **_tol(dtype))


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_sum_matches_reference(device, dtype):
    g = torch.Generator().manual_seed(1)
    srcs = [torch.randn(n, 2, 3000, generator=g).to(device, dtype) for n in (4, 1, 6)]
    maps = torch.randint(-1, 1, (3, 9), generator=g)
    maps[0] = torch.randint(-1, 4, (9,), generator=g)
    maps[2] = torch.randint(-1, 6, (9,), generator=g)
    maps[:, 4] = -1  # a row nothing contributes to: zeros
    maps = maps.to(device)
    out = gather_sum(srcs, maps)
    torch.testing.assert_close(out, gather_sum(srcs, maps, backend="reference"), **_tol(dtype))
    assert torch.all(out[4] == 0)


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_rows_matches_reference(device, dtype):
    g = torch.Generator().manual_seed(2)
    src = torch.randn(10, 3, 700, generator=g).to(device, dtype)
    idx = torch.tensor([2, -1, 0, 2, 2, 4, -1, 0, 1, 2], device=device)
    out = scatter_rows(src, idx, 6)
    torch.testing.assert_close(out, scatter_rows(src, idx, 6, backend="reference"), **_tol(dtype))
    assert torch.all(out[5] == 0) and torch.all(out[3] == 0)


def test_non_contiguous_inputs():
    x = torch.randn(5, 6, 8).transpose(1, 2)
    idx = torch.tensor([4, 4, 0])
    torch.testing.assert_close(gather_rows(x, idx), x[idx])
    srcs = [x, torch.randn(8, 6, 3)[:, :, 0].unsqueeze(1).expand(8, 8, 6)]
    maps = torch.tensor([[0, -1, 4], [7, 2, -1]])
    torch.testing.assert_close(gather_sum(srcs, maps), gather_sum(srcs, maps, backend="reference"))


def test_gradcheck_float64():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(4, 3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    idx = torch.tensor([1, 3, 1, 0, 1])
    assert torch.autograd.gradcheck(lambda t: gather_rows(t, idx, relu=True), (x,))
    srcs = [
        torch.randn(3, 5, generator=g, dtype=torch.float64, requires_grad=True),
        torch.randn(2, 5, generator=g, dtype=torch.float64, requires_grad=True),
    ]
    maps = torch.tensor([[0, 2, -1, 2], [1, -1, -1, 1]])
    assert torch.autograd.gradcheck(lambda a, b: gather_sum([a, b], maps), tuple(srcs))
    src = torch.randn(5, 4, generator=g, dtype=torch.float64, requires_grad=True)
    sidx = torch.tensor([0, 2, -1, 0, 1])
    assert torch.autograd.gradcheck(lambda t: scatter_rows(t, sidx, 3), (src,))


def test_opcheck_every_op():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(4, 3, 5, generator=g, requires_grad=True)
    idx = torch.tensor([2, 0, 2])
    torch.library.opcheck(torch.ops.nasfast.gather_rows.default, (x, idx, True))
    srcs = [torch.randn(3, 3, 5, generator=g, requires_grad=True), x]
    maps = torch.tensor([[0, -1, 2], [3, 3, -1]])
    torch.library.opcheck(torch.ops.nasfast.gather_sum.default, (srcs, maps))
    sidx = torch.tensor([1, -1, 0, 1])
    torch.library.opcheck(torch.ops.nasfast.scatter_rows.default, (x, sidx, 3))


def test_bad_inputs_raise_value_error_naming_argument():
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match="^index:"):
        gather_rows(x, torch.tensor([0, 4]))
    with pytest.raises(ValueError, match="^index:"):
        gather_rows(x, torch.tensor([0.0]))
    with pytest.raises(ValueError, match="^x:"):
        gather_rows(torch.ones(3, dtype=torch.int64), torch.tensor([0]))
    with pytest.raises(ValueError, match="^maps"):
        gather_sum([x], torch.tensor([[0, 4]]))
    with pytest.raises(ValueError, match="^maps:"):
        gather_sum([x, x], torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match="^srcs:"):
        gather_sum([], torch.zeros(0, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"^srcs\[1\]:"):
        gather_sum([x, torch.randn(4, 2)], torch.zeros(2, 1, dtype=torch.int64))
    with pytest.raises(ValueError, match="^rows:"):
        scatter_rows(x, torch.tensor([0, 1, 2, 3]), -1)
    with pytest.raises(ValueError, match="^index:"):
        scatter_rows(x, torch.tensor([0, 1, 2, 3]), 3)
    # The compiled ops check too when called directly.
    with pytest.raises(ValueError, match="index"):
        torch.ops.nasfast.gather_rows(x, torch.tensor([9]), False)
    with pytest.raises(ValueError, match="maps"):
        torch.ops.nasfast.gather_sum([x], torch.tensor([[5]]))
