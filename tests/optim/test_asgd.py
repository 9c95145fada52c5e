"""ASGD: updates against a NumPy reference (before and after averaging starts at t0), float32
eta and mu, bad options, and PyTorch's trajectories and state (resuming:
test_state_after_load.py)."""

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import check_against_torch, run_grads
from tinygen import optim

P0 = np.array([1.0, -2.0])
GRADS = np.array([[0.5, -1.0], [2.0, 0.25], [-0.3, 0.7], [0.1, -0.4], [0.6, 0.2], [-1.0, 0.3]])


def reference(p, grads, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
              maximize=False):
    """ASGD in NumPy: the parameter after each step, and the final average ax."""
    p, ax, eta, mu, trajectory = p.copy(), np.zeros_like(p), np.float32(lr), 1.0, []
    for t, grad in enumerate(grads, start=1):
        g = (-grad if maximize else grad) + weight_decay * p
        p = p * (1 - lambd * float(eta)) - float(eta) * g
        ax = p.copy() if mu == 1 else ax + (p - ax) * mu
        eta = np.float32(lr / (1 + lambd * lr * t) ** alpha)
        mu = float(np.float32(1 / max(1, t - t0)))
        trajectory.append(p)
    return np.array(trajectory), ax


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.1, lambd=0.05, alpha=0.5, t0=2),
    dict(lr=0.1, t0=0, weight_decay=0.3, maximize=True),
])
def test_matches_the_reference(options):
    p = tg.tensor(P0, dtype=tg.float64, requires_grad=True)
    opt = optim.ASGD([p], **options)
    trajectory, ax = reference(P0, GRADS, **options)
    np.testing.assert_allclose(run_grads(opt, p, GRADS), trajectory, rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["ax"].numpy(), ax, rtol=1e-12)
    assert sorted(opt.state[p]) == ["ax", "eta", "mu", "step"]
    assert opt.state[p]["eta"].dtype == np.float32 and opt.state[p]["mu"].dtype == np.float32


@pytest.mark.parametrize("options, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(lr=float("nan")), "Invalid learning rate: nan"),
    (dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
])
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        optim.ASGD([tg.zeros(1, requires_grad=True)], **options)


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.05, lambd=0.01, alpha=0.6, t0=3, weight_decay=0.1),
    dict(lr=0.05, t0=0, maximize=True),
])
def test_against_torch(options):
    check_against_torch("ASGD", options, steps=12)


def test_groups_against_torch():
    check_against_torch("ASGD", dict(lr=0.05, t0=4), groups=lambda p: [
        {"params": p[:1]}, {"params": p[1:], "lr": 0.2, "lambd": 0.01}])
