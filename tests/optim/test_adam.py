"""Adam, AdamW and AMSGrad: hand-computed updates, PyTorch's trajectories, state layout, and an
end-to-end regression that Adam solves."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tests.optim.common import check_against_torch
from tinygen import kernels, nn, optim


def run(optimizer_class, grads, p0=1.0, **options):
    p = tg.tensor([p0], dtype=tg.float64, requires_grad=True)
    opt = optimizer_class([p], **options)
    trajectory = []
    for g in grads:
        p.grad = tg.tensor([g], dtype=tg.float64)
        opt.step()
        trajectory.append(p.item())
    return trajectory, opt.state[p]


def test_constant_gradient_moves_lr_per_step():
    """With a constant gradient g the bias-corrected moments are g and g^2 exactly, so each step
    moves lr * g / (|g| + eps)."""
    trajectory, state = run(optim.Adam, [0.5] * 3, lr=0.1)
    step = 0.1 * 0.5 / (0.5 + 1e-8)
    np.testing.assert_allclose(trajectory, [1 - step, 1 - 2 * step, 1 - 3 * step], rtol=1e-12)
    assert float(state["step"]) == 3 and state["step"].dtype == np.float32
    np.testing.assert_allclose(state["exp_avg"].cpu().numpy(), [(1 - 0.9 ** 3) * 0.5], rtol=1e-12)
    np.testing.assert_allclose(state["exp_avg_sq"].cpu().numpy(), [(1 - 0.999 ** 3) * 0.25],
                               rtol=1e-12)


def test_adamw_decays_the_parameter_not_the_gradient():
    trajectory, _ = run(optim.AdamW, [0.5] * 2, lr=0.1, weight_decay=0.5)
    step = 0.1 * 0.5 / (0.5 + 1e-8)
    p1 = 1 * (1 - 0.1 * 0.5) - step
    np.testing.assert_allclose(trajectory, [p1, p1 * (1 - 0.05) - step], rtol=1e-12)


def test_adam_weight_decay_is_added_to_the_gradient():
    trajectory, state = run(optim.Adam, [0.5], p0=2.0, lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(host(state["exp_avg"]), [0.1 * (0.5 + 0.5 * 2.0)], rtol=1e-12)
    np.testing.assert_allclose(trajectory, [2.0 - 0.1 * 1.5 / (1.5 + 1e-8)], rtol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_amsgrad_keeps_the_largest_second_moment(amsgrad):
    trajectory, state = run(optim.Adam, [1.0, 0.0], lr=0.1, amsgrad=amsgrad)
    v1, v2 = 0.001, 0.999 * 0.001
    vhat = max(v1, v2) if amsgrad else v2
    p1 = 1 - 0.1 / (1 + 1e-8)
    p2 = p1 - 0.1 * (0.09 / 0.19) / (math.sqrt(vhat) / math.sqrt(1 - 0.999 ** 2) + 1e-8)
    np.testing.assert_allclose(trajectory, [p1, p2], rtol=1e-12)
    assert ("max_exp_avg_sq" in state) == amsgrad


@pytest.mark.parametrize("mode", ["fused", "reference"])
@pytest.mark.parametrize("name, options", [
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True, eps=1e-6)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
])
def test_against_torch(mode, name, options):
    with kernels.use(mode):
        check_against_torch(name, options)


def test_gradient_is_left_unchanged():
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    p.grad = tg.tensor([0.5, -0.5])
    optim.Adam([p], weight_decay=0.1, maximize=True).step()
    np.testing.assert_array_equal(p.grad.cpu().numpy(), [0.5, -0.5])


def test_invalid_options():
    p = [tg.zeros(1, requires_grad=True)]
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.AdamW(p, eps=-1.0)
    with pytest.raises(ValueError, match=r"betas must be a pair \(beta1, beta2\), got \(0.9,\)"):
        optim.Adam(p, betas=(0.9,))


def test_tensor_betas_step_as_float_betas():
    """PyTorch accepts betas as two 0-d tensors; the step is the one of the float betas."""
    with_tensors, _ = run(optim.Adam, [0.5, -1.0, 2.0], lr=0.1,
                          betas=(tg.tensor(0.8), tg.tensor(0.9)))
    with_floats, _ = run(optim.Adam, [0.5, -1.0, 2.0], lr=0.1, betas=(0.8, 0.9))
    np.testing.assert_allclose(with_tensors, with_floats, rtol=1e-6)


def test_tensor_options_refused_as_in_torch():
    p = [tg.zeros(1, requires_grad=True)]
    with pytest.raises(ValueError, match="betas must be either both floats or both Tensors"):
        optim.Adam(p, betas=(0.9, tg.tensor(0.99)))
    with pytest.raises(ValueError, match="lr as a Tensor is not supported"):
        optim.AdamW(p, lr=tg.tensor(0.01), foreach=True)
    with pytest.raises(ValueError, match=r"betas\[0\] as a Tensor is not supported"):
        optim.Adam(p, betas=(tg.tensor(0.9), tg.tensor(0.99)), foreach=True)


def test_adam_fits_a_linear_regression():
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    X = tg.tensor(rng.standard_normal((64, 4)), dtype=tg.float32)
    y = X @ tg.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.7
    model = nn.Linear(4, 1)
    opt = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(300):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]
    np.testing.assert_allclose(model.bias.detach().cpu().numpy(), [0.7], atol=0.05)
