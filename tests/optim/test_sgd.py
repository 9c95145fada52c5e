"""SGD: hand-computed updates for momentum, Nesterov, dampening, weight decay and maximize,
and PyTorch's trajectory on a least-squares problem."""

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import check_against_torch
from tinygen import optim


def run(values, grads, **options):
    """Parameter values after each step, the gradient of step k being grads[k]."""
    p = tg.tensor(values, dtype=tg.float64, requires_grad=True)
    opt = optim.SGD([p], **options)
    trajectory = []
    for g in grads:
        p.grad = tg.tensor(g, dtype=tg.float64)
        opt.step()
        trajectory.append(p.detach().cpu().numpy().copy())
    return np.array(trajectory)


@pytest.mark.parametrize("options, expected", [
    ({"lr": 0.1}, [-0.1, -0.2, -0.3]),
    ({"lr": 0.1, "momentum": 0.9}, [-0.1, -0.29, -0.561]),            # buf 1, 1.9, 2.71
    ({"lr": 0.1, "momentum": 0.9, "nesterov": True}, [-0.19, -0.461, -0.8049]),
    ({"lr": 0.1, "momentum": 0.9, "dampening": 0.5}, [-0.1, -0.24, -0.416]),  # buf 1, 1.4, 1.76
    ({"lr": 0.1, "maximize": True}, [0.1, 0.2, 0.3]),
])
def test_hand_computed_updates(options, expected):
    np.testing.assert_allclose(run([0.0], [[1.0]] * 3, **options)[:, 0], expected, rtol=1e-12)


def test_weight_decay_shrinks_parameters():
    trajectory = run([1.0, -2.0], [[0.0, 0.0]] * 2, lr=0.1, weight_decay=0.1)
    np.testing.assert_allclose(trajectory, [[0.99, -1.98], [0.9801, -1.9602]], rtol=1e-12)


def test_momentum_buffer_starts_at_the_first_gradient():
    p = tg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.3)
    assert opt.state[p] == {}
    p.grad = tg.tensor([2.0])
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].cpu().numpy(), [2.0])
    p.grad.array[0] = 5.0                        # the buffer must not alias the gradient
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].cpu().numpy(), [2.0])


def test_invalid_options():
    p = [tg.zeros(1, requires_grad=True)]
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        optim.SGD(p, momentum=-0.5)


@pytest.mark.parametrize("options", [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9, weight_decay=0.01),
    dict(lr=0.05, momentum=0.8, nesterov=True, maximize=False),
    dict(lr=0.05, momentum=0.7, dampening=0.2, weight_decay=0.1),
])
def test_against_torch(options):
    # without momentum PyTorch keeps a momentum_buffer of None per parameter; tinygen keeps none
    check_against_torch("SGD", options, rtol=1e-12, atol=1e-14,
                        same_state=options.get("momentum", 0) != 0)


def test_param_groups_against_torch():
    check_against_torch("SGD", dict(lr=0.1, momentum=0.9), rtol=1e-12, atol=1e-14,
                        groups=lambda p: [{"params": [p[0]]},
                                          {"params": [p[1]], "lr": 0.01, "momentum": 0.5}])
