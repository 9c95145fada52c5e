"""NAdam: updates against a NumPy reference, per-group options, the float32 momentum product,
bad options, and PyTorch's trajectories (resuming: test_state_after_load.py)."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tests.optim.common import (
    check_against_torch, run_grads)
from tinygen import optim

P0 = np.array([1.0, -2.0])
GRADS = np.array([[0.5, -1.0], [2.0, 0.25], [-0.3, 0.7], [0.1, -0.4]])


def reference(p, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
              momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    """NAdam in NumPy: the parameter after each step, and the final mu_product (a float32
    product, as PyTorch keeps it)."""
    (beta1, beta2), p = betas, p.copy()
    m, v, mu_product, trajectory = np.zeros_like(p), np.zeros_like(p), np.float32(1), []
    for t, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product = mu_product * np.float32(mu)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        denom = np.sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu) / (1 - float(mu_product)) * g / denom
        p = p - lr * mu_next / (1 - float(mu_product) * mu_next) * m / denom
        trajectory.append(p)
    return np.array(trajectory), mu_product


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.05, betas=(0.8, 0.99), momentum_decay=0.1),
    dict(lr=0.05, weight_decay=0.3),
    dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True),
    dict(lr=0.05, maximize=True, eps=1e-3),
])
def test_matches_the_reference(options):
    p = tg.tensor(P0, dtype=tg.float64, requires_grad=True)
    opt = optim.NAdam([p], **options)
    trajectory, mu_product = reference(P0, GRADS, **options)
    np.testing.assert_allclose(run_grads(opt, p, GRADS), trajectory, rtol=1e-12)
    state = opt.state[p]
    assert sorted(state) == ["exp_avg", "exp_avg_sq", "mu_product", "step"]
    assert state["mu_product"].dtype == state["step"].dtype == np.float32
    assert state["mu_product"].numpy() == mu_product and float(state["step"]) == len(GRADS)


def test_each_group_follows_its_own_options():
    a, b = (tg.tensor(P0, dtype=tg.float64, requires_grad=True) for _ in range(2))
    second = dict(lr=0.1, betas=(0.5, 0.9), momentum_decay=0.2, weight_decay=0.1,
                  decoupled_weight_decay=True)
    opt = optim.NAdam([{"params": [a]}, {"params": [b], **second}], lr=0.05, maximize=True)
    for g in GRADS:
        a.grad, b.grad = (tg.tensor(g, dtype=tg.float64) for _ in range(2))
        opt.step()
    for p, options in [(a, dict(lr=0.05)), (b, second)]:
        np.testing.assert_allclose(host(p), reference(P0, GRADS, maximize=True, **options)[0][-1],
                                   rtol=1e-12)


def test_moments_live_on_the_parameter_device_and_counts_on_the_cpu(device):
    p = tg.tensor(P0, dtype=tg.float64, device=device, requires_grad=True)
    opt = optim.NAdam([p], lr=0.05)
    np.testing.assert_allclose(run_grads(opt, p, GRADS), reference(P0, GRADS, lr=0.05)[0],
                               rtol=1e-12)
    for name, value in opt.state[p].items():
        on_cpu = name in ("step", "mu_product")
        assert value.device == (tg.device("cpu") if on_cpu else p.device), name


@pytest.mark.parametrize("options, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(eps=float("nan")), "Invalid epsilon value: nan"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (dict(momentum_decay=-4e-3), "Invalid momentum_decay value: -0.004"),
    (dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (dict(betas=(0.9,)), r"betas must be a pair \(beta1, beta2\), got \(0.9,\)"),
])
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        optim.NAdam([tg.zeros(1, requires_grad=True)], **options)


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.05, betas=(0.8, 0.99), momentum_decay=0.1, weight_decay=0.1),
    dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
])
def test_against_torch(options):
    check_against_torch("NAdam", options)


def test_groups_against_torch():
    check_against_torch("NAdam", dict(lr=0.05), groups=lambda p: [
        {"params": p[:1]},
        {"params": p[1:], "lr": 0.1, "momentum_decay": 0.1, "betas": (0.7, 0.9)}])
