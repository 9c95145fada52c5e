"""Adamax: updates against a NumPy reference, an exact resume through tg.save/tg.load, bad
options, and PyTorch's trajectories and state."""

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import check_against_torch, check_resume_is_exact, run_grads
from tinygen import optim

P0 = np.array([1.0, -2.0])
GRADS = np.array([[0.5, -1.0], [2.0, 0.25], [-0.3, 0.7], [0.1, -0.4]])


def reference(p, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False):
    """Adamax in NumPy: the parameter after each step, and the final exp_inf."""
    beta1, beta2 = betas
    p, m, u, trajectory = p.copy(), np.zeros_like(p), np.zeros_like(p), []
    for t, grad in enumerate(grads, start=1):
        g = (-grad if maximize else grad) + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        u = np.maximum(beta2 * u, np.abs(g) + eps)
        p = p - lr / (1 - beta1**t) * m / u
        trajectory.append(p)
    return np.array(trajectory), u


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3),
    dict(lr=0.1, weight_decay=0.3, maximize=True),
])
def test_matches_the_reference(options):
    p = tg.tensor(P0, dtype=tg.float64, requires_grad=True)
    opt = optim.Adamax([p], **options)
    trajectory, exp_inf = reference(P0, GRADS, **options)
    np.testing.assert_allclose(run_grads(opt, p, GRADS), trajectory, rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["exp_inf"].numpy(), exp_inf, rtol=1e-12)
    assert sorted(opt.state[p]) == ["exp_avg", "exp_inf", "step"]
    assert float(opt.state[p]["step"]) == len(GRADS)


def test_resume_through_save_is_exact(tmp_path):
    check_resume_is_exact(tmp_path, lambda params: optim.Adamax(
        [{"params": params[:1]}, {"params": params[1:], "lr": 0.2}], lr=0.05, weight_decay=0.1))


@pytest.mark.parametrize("options, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(eps=float("nan")), "Invalid epsilon value: nan"),
    (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
])
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        optim.Adamax([tg.zeros(1, requires_grad=True)], **options)


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1),
    dict(lr=0.05, maximize=True, eps=1e-2),
])
def test_against_torch(options):
    check_against_torch("Adamax", options)


def test_groups_against_torch():
    check_against_torch("Adamax", dict(lr=0.05), groups=lambda p: [
        {"params": p[:1]}, {"params": p[1:], "lr": 0.2, "betas": (0.5, 0.9)}])
