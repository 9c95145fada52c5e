"""RAdam: the switch from momentum SGD to rectified Adam, updates against a NumPy reference,
per-group options, an exact resume through tg.save/tg.load, bad options, and PyTorch's
trajectories."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tests.optim.common import (
    check_against_torch, check_resume_is_exact, run_grads)
from tinygen import optim

P0 = np.array([1.0, -2.0])
GRADS = np.array([[0.5, -1.0], [2.0, 0.25], [-0.3, 0.7], [0.1, -0.4], [1.2, 0.3], [-0.6, -0.9],
                  [0.4, 0.8], [0.2, -0.1]])                # rectified from step 6 (beta2 0.999)


def reference(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
              decoupled_weight_decay=False, maximize=False):
    """RAdam in NumPy: the parameter after each step."""
    (beta1, beta2), p = betas, p.copy()
    m, v, trajectory = np.zeros_like(p), np.zeros_like(p), []
    rho_inf = 2 / (1 - beta2) - 1
    for t, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t > 5:
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                          / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p = p - lr * m_hat * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps) * r
        else:
            p = p - lr * m_hat
        trajectory.append(p)
    return np.array(trajectory)


def test_constant_gradient_moves_lr_g_then_lr_r():
    """With a constant gradient g, m / (1 - beta1^t) = g and v / (1 - beta2^t) = g^2: the first
    five steps (rho_t <= 5 for beta2 = 0.999) move lr g, the later ones lr r_t sign(g)."""
    lr, g, rho_inf = 0.1, 0.5, 1999.0
    p = tg.tensor([0.0], dtype=tg.float64, requires_grad=True)
    moves = -np.diff(run_grads(optim.RAdam([p], lr=lr, eps=0.0), p, [[g]] * 7)[:, 0],
                     prepend=0.0)
    rho = [rho_inf - 2 * t * 0.999**t / (1 - 0.999**t) for t in (6, 7)]
    r = [math.sqrt((x - 4) * (x - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * x)) for x in rho]
    np.testing.assert_allclose(moves, [lr * g] * 5 + [lr * r[0], lr * r[1]], rtol=1e-12)


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3),
    dict(lr=0.05, weight_decay=0.3),
    dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True),
    dict(lr=0.05, maximize=True),
])
def test_matches_the_reference(options):
    p = tg.tensor(P0, dtype=tg.float64, requires_grad=True)
    opt = optim.RAdam([p], **options)
    np.testing.assert_allclose(run_grads(opt, p, GRADS), reference(P0, GRADS, **options),
                               rtol=1e-12)
    assert sorted(opt.state[p]) == ["exp_avg", "exp_avg_sq", "step"]
    assert float(opt.state[p]["step"]) == len(GRADS) and opt.state[p]["step"].dtype == np.float32


def test_each_group_follows_its_own_options():
    a, b = (tg.tensor(P0, dtype=tg.float64, requires_grad=True) for _ in range(2))
    second = dict(lr=0.1, betas=(0.5, 0.9), weight_decay=0.1, decoupled_weight_decay=True)
    opt = optim.RAdam([{"params": [a]}, {"params": [b], **second}], lr=0.05, maximize=True)
    for g in GRADS:
        a.grad, b.grad = (tg.tensor(g, dtype=tg.float64) for _ in range(2))
        opt.step()
    for p, options in [(a, dict(lr=0.05)), (b, second)]:
        np.testing.assert_allclose(host(p), reference(P0, GRADS, maximize=True, **options)[-1],
                                   rtol=1e-12)


def test_resume_through_save_is_exact(tmp_path):
    """Saved after step 4, resumed through the switch to rectified steps at step 6."""
    check_resume_is_exact(tmp_path, lambda params: optim.RAdam(
        [{"params": params[:1]}, {"params": params[1:], "lr": 0.01, "betas": (0.8, 0.99)}],
        lr=0.05, weight_decay=0.1, decoupled_weight_decay=True))


@pytest.mark.parametrize("options, message", [
    (dict(lr=float("nan")), "Invalid learning rate: nan"),
    (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
    (dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (dict(betas=(0.9, 0.99, 0.9)), r"betas must be a pair \(beta1, beta2\)"),
])
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        optim.RAdam([tg.zeros(1, requires_grad=True)], **options)


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1),
    dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
])
def test_against_torch(options):
    check_against_torch("RAdam", options)


def test_groups_against_torch():
    check_against_torch("RAdam", dict(lr=0.05), groups=lambda p: [
        {"params": p[:1]}, {"params": p[1:], "lr": 0.1, "betas": (0.7, 0.9)}])
