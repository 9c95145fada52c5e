"""RMSprop: a hand-computed centered-momentum update and PyTorch's trajectories."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import check_against_torch
from tinygen import optim


def test_centered_momentum_by_hand():
    lr, alpha, eps, momentum = 0.01, 0.9, 1e-8, 0.5
    p = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = optim.RMSprop([p], lr=lr, alpha=alpha, eps=eps, momentum=momentum, centered=True)
    expected, v, gbar, buf, value = [], 0.0, 0.0, 0.0, 1.0
    for g in [2.0, -1.0, 0.5]:
        v = alpha * v + (1 - alpha) * g * g
        gbar = gbar + (1 - alpha) * (g - gbar)
        buf = momentum * buf + g / (math.sqrt(v - gbar * gbar) + eps)
        value -= lr * buf
        expected.append(value)
    trajectory = []
    for g in [2.0, -1.0, 0.5]:
        p.grad = tg.tensor([g], dtype=tg.float64)
        opt.step()
        trajectory.append(p.item())
    np.testing.assert_allclose(trajectory, expected, rtol=1e-12)
    assert sorted(opt.state[p]) == ["grad_avg", "momentum_buffer", "square_avg", "step"]


def test_plain_update_by_hand():
    p = tg.tensor([0.0], dtype=tg.float64, requires_grad=True)
    p.grad = tg.tensor([3.0], dtype=tg.float64)
    optim.RMSprop([p]).step()                    # v = 0.01 * 9, step = 1e-2 * 3 / (0.3 + eps)
    np.testing.assert_allclose(p.item(), -1e-2 * 3 / (math.sqrt(0.09) + 1e-8), rtol=1e-12)


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.02, alpha=0.9, weight_decay=0.1),
    dict(lr=0.01, momentum=0.9, centered=True),
    dict(lr=0.01, momentum=0.5, maximize=True, eps=1e-4),
])
def test_against_torch(options):
    check_against_torch("RMSprop", options)
