import pytest
import torch

from nasfast.nn import NB201Supernet
from nasfast.spaces import ops_to_arch_str
from tests.conftest import devices


def _net(C=4, N=1, dtype=torch.float64, seed=0, device="cpu"):
    torch.manual_seed(seed)
    net = NB201Supernet(C=C, N=N, num_classes=5, in_channels=3).to(device, dtype)
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():  # non-trivial running statistics and affine parameters
        if isinstance(m, torch.nn.BatchNorm2d):
            C_ = m.num_features
            m.running_mean.copy_(torch.rand(C_, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(C_, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(C_, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(C_, generator=g) - 0.5)
    return net.eval()


def _population(P, seed):
    g = torch.Generator().manual_seed(seed)
    archs = torch.randint(0, 5, (P, 6), generator=g)
    archs[0] = 0  # all none
    archs[1] = archs[2]  # duplicate
    archs[3, 3:] = 0  # node 3 gets nothing: the cell outputs zeros
    archs[4] = torch.tensor([1, 1, 1, 1, 1, 1])
    archs[-1] = archs[1]  # another copy, far from the first
    return archs


@pytest.mark.slow
@pytest.mark.parametrize("bn", ["running", "batch"])
@pytest.mark.parametrize("chunk", [None, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_batched_equals_per_candidate_loop(bn, chunk, seed):
    net = _net(N=2, seed=seed)
    x = torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    archs = _population(23, seed)
    with torch.no_grad():
        loop = torch.stack([net(x, a, bn=bn) for a in archs])
        fused = net.forward_candidates(x, archs, bn=bn, chunk=chunk)
        ref = net.forward_candidates(x, archs, bn=bn, chunk=chunk, backend="reference")
    assert fused.shape == (23, 3, 5)
    torch.testing.assert_close(fused, loop, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(ref, loop, rtol=1e-9, atol=1e-9)
    # The duplicate rows are identical; distinct candidates differ.
    assert torch.equal(fused[1], fused[2]) and torch.equal(fused[1], fused[-1])
    assert not torch.allclose(fused[5], fused[6])


@pytest.mark.parametrize("device", devices())
def test_float32_and_all_none_population(device):
    net = _net(C=6, dtype=torch.float32, device=device)
    x = torch.randn(4, 3, 8, 8, device=device)
    archs = torch.zeros(5, 6, dtype=torch.int64)
    archs[2:, 0] = torch.tensor([1, 2, 3])  # node 1 differs, but nothing reaches node 3
    with torch.no_grad():
        out = net.forward_candidates(x, archs)
        loop = net.forward_loop(x, archs)
    torch.testing.assert_close(out, loop, rtol=1e-5, atol=1e-5)
    assert torch.allclose(out, out[0].expand_as(out))


def test_single_candidate_and_list_input():
    net = _net()
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    arch = [3, 2, 4, 1, 0, 3]
    with torch.no_grad():
        out = net.forward_candidates(x, [arch])
    torch.testing.assert_close(out[0], net(x, torch.tensor(arch)), rtol=1e-9, atol=1e-9)
    assert ops_to_arch_str(arch) == (
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    )


@pytest.mark.slow
def test_training_mode_gradients_match_loop():
    """'batch' BN (per-candidate statistics): the batched pass gives the loop's gradients."""
    archs = _population(9, 5)
    x = torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    y = torch.tensor([0, 3, 1])
    grads = []
    for batched in (False, True):
        net = _net(seed=5).train()
        logits = (
            net.forward_candidates(x, archs, bn="batch")
            if batched
            else torch.stack([net(x, a, bn="batch") for a in archs])
        )
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.repeat(len(archs)))
        loss.backward()
        grads.append({n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], rtol=1e-8, atol=1e-10)


def test_train_mode_updates_running_stats_and_uses_batch_stats():
    net = _net(seed=2).train()
    x = torch.randn(4, 3, 8, 8, dtype=torch.float64)
    archs = _population(6, 2)
    before = net.last_bn.running_mean.clone()
    out = net.forward_candidates(x, archs)
    assert not torch.equal(before, net.last_bn.running_mean)
    with torch.no_grad():
        loop = torch.stack([net(x, a, bn="batch") for a in archs])
    torch.testing.assert_close(out.detach(), loop, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("archs", "match"),
    [
        (torch.zeros(3, 5, dtype=torch.int64), r"archs: expected shape \[P, 6\]"),
        (torch.zeros(0, 6, dtype=torch.int64), r"archs: expected shape"),
        (torch.full((2, 6), 5), "archs: expected op codes in 0..4"),
        (torch.full((2, 6), -1), "archs: expected op codes in 0..4"),
        (torch.full((2, 6), 0.5), "archs: expected integer op codes"),
        ("abc", "archs:"),
    ],
)
def test_bad_archs_raise_value_error(archs, match):
    net = _net()
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    with pytest.raises(ValueError, match=match):
        net.forward_candidates(x, archs)


def test_bad_arguments_raise_value_error():
    net = _net()
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"^arch: expected shape \[6\]"):
        net(x, [0, 1, 2])
    with pytest.raises(ValueError, match="^arch: expected op codes"):
        net(x, [0, 1, 2, 3, 4, 7])
    with pytest.raises(ValueError, match="^x: expected 3 channels"):
        net.forward_candidates(torch.randn(2, 1, 8, 8), [[0] * 6])
    with pytest.raises(ValueError, match="^bn:"):
        net.forward_candidates(x, [[0] * 6], bn="eval")
    with pytest.raises(ValueError, match="^chunk:"):
        net.forward_candidates(x, [[0] * 6], chunk=0)
    with pytest.raises(ValueError, match="^C:"):
        NB201Supernet(C=0)


def test_forward_mixed_with_one_hot_alphas_equals_forward():
    torch.manual_seed(0)
    net = NB201Supernet(C=2, N=1, num_classes=3, in_channels=1).double().eval()
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    arch = [3, 1, 2, 4, 0, 3]
    alpha = torch.full((6, 5), -60.0, dtype=torch.float64)
    alpha[torch.arange(6), torch.tensor(arch)] = 60.0
    with torch.no_grad():
        torch.testing.assert_close(net.forward_mixed(x, alpha), net(x, arch))
    with pytest.raises(ValueError, match="^alpha:"):
        net.forward_mixed(x, torch.zeros(6, 4))
