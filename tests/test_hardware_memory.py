import numpy as np
import pytest
import torch
from torch import nn

from nasfast.hardware import spaces
from nasfast.hardware.measure import cpu_peak_bytes
from nasfast.hardware.memory import (
    inference_memory,
    make_optimizer,
    optimizer_state_tensors,
    storage_bytes,
    training_memory,
)
from nasfast.hardware.nb201_memory import (
    all_archs,
    all_cell_events,
    cell_events,
    nb201_inference_memory,
)
from nasfast.hardware.workspace import Workspaces

F32 = 4


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(100, 200), nn.ReLU(), nn.Linear(200, 10))


def test_inference_peak_of_an_mlp_by_hand():
    B = 8
    params = (100 * 200 + 200 + 200 * 10 + 10) * F32
    # at the ReLU: the input, the first layer's output and the ReLU's output are live
    by_hand = params + B * 100 * F32 + 2 * B * 200 * F32
    m = inference_memory(mlp(), (B, 100))
    assert (m.peak, m.params, m.inputs, m.buffers) == (by_hand, params, B * 100 * F32, 0)


def sum_loss(out):
    return out.sum()


@pytest.mark.parametrize("optimizer, state_copies", [("sgd", 0), ("momentum", 1)])
def test_training_peak_of_a_linear_layer_by_hand(optimizer, state_copies):
    B = 2
    net = nn.Linear(4, 3, bias=False)
    w, x, out = 12 * F32, B * 4 * F32, B * 3 * F32
    # backward of out.sum(): the loss and its gradient (scalars) and the weight's gradient are
    # live with the weight, the input, the output and the optimizer state
    by_hand = w + x + out + 2 * F32 + w + state_copies * w
    m = training_memory(net, (B, 4), optimizer, loss_fn=sum_loss)
    assert m.peak == by_hand and m.optimizer_state == state_copies * w
    # the step holds the weight, its gradient, the state and the input
    assert m.phases == {"forward_backward": by_hand, "optimizer_step": 2 * w + x + state_copies * w}


def test_adam_holds_two_copies_of_the_parameters():
    sgd = training_memory(mlp(), (8, 100), "sgd")
    adam = training_memory(mlp(), (8, 100), "adam")
    assert adam.optimizer_state == 2 * adam.params
    assert adam.peak >= sgd.peak + 2 * adam.params


def test_memory_rejects_bad_arguments():
    with pytest.raises(ValueError, match="optimizer: expected one of"):
        training_memory(mlp(), (2, 100), "lamb")
    with pytest.raises(ValueError, match="model: expected an nn.Module"):
        inference_memory("net", (2, 100))
    with pytest.raises(ValueError, match="inputs"):
        inference_memory(mlp(), "2x100")


def measured_inference(net: nn.Module, shape) -> int:
    net.eval()
    x = torch.randn(shape)
    with torch.no_grad():
        return storage_bytes([*net.parameters(), *net.buffers(), x]) + cpu_peak_bytes(
            lambda: net(x)
        )


def measured_training(net: nn.Module, shape, optimizer: str) -> int:
    from nasfast.hardware.memory import default_loss

    net.train()
    x = torch.randn(shape)
    opt = make_optimizer(optimizer, list(net.parameters()))

    def step():
        default_loss(net(x)).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    held = [*net.parameters(), *net.buffers(), x, *optimizer_state_tensors(opt)]
    return storage_bytes(held) + cpu_peak_bytes(step)


def test_analytic_peak_matches_the_allocator_on_a_user_module():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 5),
    )
    shape = (4, 3, 8, 8)
    ws = Workspaces("cpu")
    assert inference_memory(net, shape, ws).peak == measured_inference(net, shape)
    train = training_memory(net, shape, "momentum", workspaces=ws).peak
    assert train == pytest.approx(measured_training(net, shape, "momentum"), rel=0.02)


def test_nb201_fast_path_equals_the_graph_tracker():
    cfg = spaces.space_config("nb201", C=2, N=2, batch=2, image=[3, 8, 8])
    rng = np.random.default_rng(0)
    archs = np.vstack([all_archs()[rng.choice(15625, 3)], [[1] * 6, [1, 1, 1, 1, 1, 3]]])
    ws = Workspaces("cpu")
    fast = nb201_inference_memory(cfg, archs, ws)
    slow = [
        inference_memory(spaces.build_network(cfg, a), spaces.input_shape(cfg), ws).peak
        for a in archs
    ]
    assert fast.tolist() == slow


def test_cell_events_of_all_archs_equal_the_replay_of_each():
    archs = all_archs()
    events = all_cell_events(archs)
    for r in np.random.default_rng(1).choice(len(archs), 200, replace=False):
        assert events[r].tolist() == [list(e) for e in cell_events(tuple(archs[r].tolist()))]
