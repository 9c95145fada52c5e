"""Adadelta: updates against a NumPy reference, an exact resume through tg.save/tg.load, bad
options, and PyTorch's trajectories."""

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import (
    check_against_torch, check_resume_is_exact, run_grads)
from tinygen import optim

P0 = np.array([1.0, -2.0])
GRADS = np.array([[0.5, -1.0], [2.0, 0.25], [-0.3, 0.7], [0.1, -0.4]])


def reference(p, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    """Adadelta in NumPy (Zeiler 2012, Algorithm 1 with PyTorch's lr): the parameter after each
    step, and the final square_avg and acc_delta."""
    p, v, u, trajectory = p.copy(), np.zeros_like(p), np.zeros_like(p), []
    for grad in grads:
        g = (-grad if maximize else grad) + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
        trajectory.append(p)
    return np.array(trajectory), v, u


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.5, rho=0.5, eps=1e-3),
    dict(weight_decay=0.3, maximize=True),
])
def test_matches_the_reference(options):
    p = tg.tensor(P0, dtype=tg.float64, requires_grad=True)
    opt = optim.Adadelta([p], **options)
    trajectory, v, u = reference(P0, GRADS, **options)
    np.testing.assert_allclose(run_grads(opt, p, GRADS), trajectory, rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["square_avg"].numpy(), v, rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["acc_delta"].numpy(), u, rtol=1e-12)
    assert float(opt.state[p]["step"]) == len(GRADS)


def test_resume_through_save_is_exact(tmp_path):
    check_resume_is_exact(tmp_path, lambda params: optim.Adadelta(
        [{"params": params[:1]}, {"params": params[1:], "rho": 0.8}], lr=0.5, weight_decay=0.1))


@pytest.mark.parametrize("option, value, message", [
    ("lr", -1.0, "Invalid learning rate: -1.0"), ("eps", -1.0, "Invalid epsilon value: -1.0"),
    ("weight_decay", float("nan"), "Invalid weight_decay value: nan"),
    ("rho", 1.5, "Invalid rho value: 1.5"), ("rho", -0.1, "Invalid rho value: -0.1"),
])
def test_bad_options(option, value, message):
    with pytest.raises(ValueError, match=message):
        optim.Adadelta([tg.zeros(1, requires_grad=True)], **{option: value})


@pytest.mark.parametrize("options", [dict(), dict(lr=0.1, rho=0.7, weight_decay=0.1,
                                                  maximize=True)])
def test_against_torch(options):
    check_against_torch("Adadelta", options)
