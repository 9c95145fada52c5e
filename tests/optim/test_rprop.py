"""Rprop: updates against a NumPy reference (growing, shrinking and clamped step sizes, a skipped
move after a sign flip), an exact resume, bad options, and PyTorch's trajectories and state."""

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import check_against_torch, check_resume_is_exact, run_grads
from tinygen import optim

P0 = np.array([1.0, -2.0, 0.5])
GRADS = np.array([[0.5, -1.0, 0.0], [2.0, 0.25, 1.0], [-0.3, 0.7, 1.0], [0.1, -0.4, 2.0],
                  [0.2, 0.0, 3.0], [0.3, 0.5, -1.0]])


def reference(p, grads, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    """Rprop in NumPy: the parameter after each step, and the final step sizes."""
    etaminus, etaplus = etas
    p, prev, size, trajectory = p.copy(), np.zeros_like(p), np.full_like(p, lr), []
    for grad in grads:
        g = -grad if maximize else grad.copy()
        product = g * prev
        size = np.clip(size * np.where(product > 0, etaplus, np.where(product < 0, etaminus, 1)),
                       *step_sizes)
        g = np.where(product < 0, 0.0, g)
        p = p - np.sign(g) * size
        prev = g
        trajectory.append(p)
    return np.array(trajectory), size


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.1, etas=(0.3, 2.0), step_sizes=(0.05, 0.3)),
    dict(lr=0.1, maximize=True),
])
def test_matches_the_reference(options):
    p = tg.tensor(P0, dtype=tg.float64, requires_grad=True)
    opt = optim.Rprop([p], **options)
    trajectory, size = reference(P0, GRADS, **options)
    np.testing.assert_allclose(run_grads(opt, p, GRADS), trajectory, rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["step_size"].numpy(), size, rtol=1e-12)
    assert sorted(opt.state[p]) == ["prev", "step", "step_size"]


def test_lr_only_starts_the_step_sizes():
    p = tg.tensor(P0, dtype=tg.float64, requires_grad=True)
    opt = optim.Rprop([p], lr=0.1)
    run_grads(opt, p, GRADS[:2])
    opt.param_groups[0]["lr"] = 100.0
    np.testing.assert_allclose(run_grads(opt, p, GRADS[2:]), reference(P0, GRADS, lr=0.1)[0][2:],
                               rtol=1e-12)


def test_resume_through_save_is_exact(tmp_path):
    check_resume_is_exact(tmp_path, lambda params: optim.Rprop(
        [{"params": params[:1]}, {"params": params[1:], "etas": (0.4, 1.5)}], lr=0.05))


@pytest.mark.parametrize("options, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(lr=float("nan")), "Invalid learning rate: nan"),
    (dict(etas=(1.0, 1.2)), "Invalid eta values: 1.0, 1.2"),
    (dict(etas=(0.5, 1.0)), "Invalid eta values: 0.5, 1.0"),
    (dict(etas=(0.0, 1.2)), "Invalid eta values: 0.0, 1.2"),
])
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        optim.Rprop([tg.zeros(1, requires_grad=True)], **options)


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)),
    dict(lr=0.05, maximize=True),
])
def test_against_torch(options):
    check_against_torch("Rprop", options, steps=15)


def test_groups_against_torch():
    check_against_torch("Rprop", dict(lr=0.05), groups=lambda p: [
        {"params": p[:1]}, {"params": p[1:], "lr": 0.2, "etas": (0.4, 1.5)}])
