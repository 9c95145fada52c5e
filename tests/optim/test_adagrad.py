"""Adagrad: updates against a NumPy reference, per-group options, the state made with the
optimizer, an exact resume through tg.save/tg.load, bad options, and PyTorch's trajectories."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tests.optim.common import (
    check_against_torch, check_resume_is_exact, run_grads)
from tinygen import optim

P0 = np.array([1.0, -2.0])
GRADS = np.array([[0.5, -1.0], [2.0, 0.25], [-0.3, 0.7], [0.1, -0.4]])


def reference(p, grads, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
              eps=1e-10, maximize=False):
    """Adagrad in NumPy: the parameter after each step, and the final sum."""
    p, state_sum, trajectory = p.copy(), np.full_like(p, initial_accumulator_value), []
    for t, grad in enumerate(grads, start=1):
        g = (-grad if maximize else grad) + weight_decay * p
        state_sum = state_sum + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(state_sum) + eps)
        trajectory.append(p)
    return np.array(trajectory), state_sum


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.1, lr_decay=0.2, initial_accumulator_value=0.1),
    dict(lr=0.1, weight_decay=0.3),
    dict(lr=0.1, weight_decay=0.3, maximize=True, eps=1e-3),
])
def test_matches_the_reference(options):
    p = tg.tensor(P0, dtype=tg.float64, requires_grad=True)
    opt = optim.Adagrad([p], **options)
    trajectory, state_sum = reference(P0, GRADS, **options)
    np.testing.assert_allclose(run_grads(opt, p, GRADS), trajectory, rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["sum"].numpy(), state_sum, rtol=1e-12)
    assert float(opt.state[p]["step"]) == len(GRADS) and opt.state[p]["step"].dtype == np.float32


def test_state_is_made_with_the_optimizer():
    """As in PyTorch, every parameter has its step and sum before the first step."""
    a, b = (tg.zeros(n, dtype=tg.float64, requires_grad=True) for n in (2, 3))
    state = optim.Adagrad([a, b], initial_accumulator_value=0.5).state_dict()["state"]
    assert sorted(state) == [0, 1]
    assert sorted(state[1]) == ["step", "sum"] and float(state[1]["step"]) == 0
    np.testing.assert_array_equal(state[1]["sum"].numpy(), [0.5, 0.5, 0.5])


def test_each_group_follows_its_own_options():
    a, b = (tg.tensor(P0, dtype=tg.float64, requires_grad=True) for _ in range(2))
    second = dict(lr=0.3, lr_decay=0.1, initial_accumulator_value=1.0, weight_decay=0.2)
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], **second}], lr=0.05)
    c = tg.tensor(P0, dtype=tg.float64, requires_grad=True)
    opt.add_param_group({"params": [c], "maximize": True})
    for g in GRADS:
        for p in (a, b, c):
            p.grad = tg.tensor(g, dtype=tg.float64)
        opt.step()
    # as PyTorch, every sum starts at the constructor's initial_accumulator_value (0 here)
    b_options = {**second, "initial_accumulator_value": 0}
    for p, options in [(a, dict(lr=0.05)), (b, b_options), (c, dict(lr=0.05, maximize=True))]:
        np.testing.assert_allclose(host(p), reference(P0, GRADS, **options)[0][-1], rtol=1e-12)


def test_resume_through_save_is_exact(tmp_path):
    check_resume_is_exact(tmp_path, lambda params: optim.Adagrad(
        [{"params": params[:1]}, {"params": params[1:], "lr": 0.2, "lr_decay": 0.1}],
        lr=0.05, weight_decay=0.1, initial_accumulator_value=0.2))


def test_pytorch_implementation_choices_are_accepted():
    plain, flagged = (tg.tensor(P0, dtype=tg.float64, requires_grad=True) for _ in range(2))
    run_grads(optim.Adagrad([plain], lr=0.1), plain, GRADS)
    run_grads(optim.Adagrad([flagged], 0.1, 0, 0, 0, 1e-10, True, differentiable=False,
                            fused=False), flagged, GRADS)
    np.testing.assert_array_equal(host(plain), host(flagged))


@pytest.mark.parametrize("option, name", [
    ("lr", "learning rate"), ("lr_decay", "lr_decay value"),
    ("weight_decay", "weight_decay value"),
    ("initial_accumulator_value", "initial_accumulator_value value"), ("eps", "epsilon value"),
])
@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_bad_options(option, name, value):
    with pytest.raises(ValueError, match=f"Invalid {name}: {value}"):
        optim.Adagrad([tg.zeros(1, requires_grad=True)], **{option: value})


def test_differentiable_is_refused():
    with pytest.raises(NotImplementedError, match="outside the autograd graph"):
        optim.Adagrad([tg.zeros(1, requires_grad=True)], differentiable=True)


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.3),
    dict(lr=0.1, weight_decay=0.1, maximize=True),
])
def test_against_torch(options):
    check_against_torch("Adagrad", options)


def test_groups_against_torch():
    check_against_torch("Adagrad", dict(lr=0.05), groups=lambda p: [
        {"params": p[:1]}, {"params": p[1:], "lr": 0.2, "lr_decay": 0.1}])
