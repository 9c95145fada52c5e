"""smooth_l1, huber, gaussian_nll and poisson_nll losses: values against NumPy formulas, first
and second derivatives (off the |d| = beta kinks), extreme inputs, argument errors, and a table
against PyTorch."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import check_functional_against_torch, host
from tinygen.autograd import gradcheck, gradgradcheck

REDUCTIONS = ["none", "mean", "sum"]


def reduce_np(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def huber_np(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


def off_kinks(rng, shape, kinks, gap=0.1):
    """Differences d with |d| at least ``gap`` away from each kink (and from 0)."""
    d = rng.uniform(-3, 3, shape)
    for k in (0,) + tuple(kinks) + tuple(-k for k in kinks):
        near = np.abs(d - k) < gap
        d[near] = k + np.where(d[near] >= k, gap, -gap)
    return d


def pair(rng, shape, kinks, device="cpu"):
    """input, target (both requiring grad) whose difference stays off the kinks."""
    target = rng.standard_normal(shape)
    return (tg.tensor(target + off_kinks(rng, shape, kinks), device=device, requires_grad=True),
            tg.tensor(target, device=device, requires_grad=True))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
def test_smooth_l1(reduction, beta, device, rng):
    x, y = pair(rng, (4, 5), (beta,), device)
    d = host(x) - host(y)
    expected = huber_np(d, beta) / beta if beta else np.abs(d)
    f = lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta)  # noqa: E731
    np.testing.assert_allclose(host(f(x, y)), reduce_np(expected, reduction), rtol=1e-12)
    assert gradcheck(f, (x, y))
    assert gradgradcheck(f, (x, y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber(reduction, delta, device, rng):
    x, y = pair(rng, (4, 5), (delta,), device)
    w = tg.tensor(rng.uniform(0.5, 2, (4, 5)), device=device)
    d = host(x) - host(y)
    for weight, scale in ((None, 1.0), (w, host(w))):
        f = lambda x, y: F.huber_loss(x, y, reduction, delta, weight)  # noqa: E731
        np.testing.assert_allclose(host(f(x, y)), reduce_np(scale * huber_np(d, delta),
                                                            reduction), rtol=1e-12)
        assert gradcheck(f, (x, y))
        assert gradgradcheck(f, (x, y))


def test_huber_is_delta_times_smooth_l1(rng):
    x, y = pair(rng, (6,), (0.7,))
    np.testing.assert_allclose(host(F.huber_loss(x, y, delta=0.7)),
                               0.7 * host(F.smooth_l1_loss(x, y, beta=0.7)), rtol=1e-12)


def gaussian_nll_np(x, y, var, full, eps):
    var = np.maximum(var, eps)
    return 0.5 * (np.log(var) + (x - y) ** 2 / var) + (0.5 * math.log(2 * math.pi) if full else 0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
def test_gaussian_nll(reduction, full, var_shape, device, rng, leaf):
    x, y = leaf(rng, 4, 3, device=device), leaf(rng, 4, 3, device=device)
    var = leaf(rng, *var_shape, device=device, low=0.2, high=2.0)
    f = lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=full, reduction=reduction)  # noqa
    v = host(var).reshape(4, 1) if var_shape == (4,) else host(var)
    expected = gaussian_nll_np(host(x), host(y), v, full, 1e-6)
    np.testing.assert_allclose(host(f(x, y, var)), reduce_np(expected, reduction), rtol=1e-12)
    assert gradcheck(f, (x, y, var))
    assert gradgradcheck(f, (x, y, var))


def test_gaussian_nll_clamps_var_for_the_value_only():
    """Below eps the variance is replaced by eps, yet its gradient is d loss / d var at eps
    (PyTorch clamps under no_grad), so a collapsing variance is still pushed back."""
    x, y = tg.tensor([0.0], dtype=tg.float64), tg.tensor([0.01], dtype=tg.float64)
    var = tg.tensor([1e-9], dtype=tg.float64, requires_grad=True)
    loss = F.gaussian_nll_loss(x, y, var, eps=1e-6)
    loss.backward()
    np.testing.assert_allclose(loss.item(), gaussian_nll_np(0.0, 0.01, 1e-9, False, 1e-6))
    np.testing.assert_allclose(host(var.grad), [0.5 / 1e-6 - 0.5 * 1e-4 / 1e-12])


def test_gaussian_nll_number_var_and_errors(rng):
    x, y = tg.tensor(rng.standard_normal((3, 2))), tg.tensor(rng.standard_normal((3, 2)))
    np.testing.assert_allclose(host(F.gaussian_nll_loss(x, y, 0.5)),
                               host(F.gaussian_nll_loss(x, y, tg.full((3, 2), 0.5))))
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(x, y, tg.ones(2))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, y, -tg.ones(3, 2))
    with pytest.raises(ValueError, match="reduction"):
        F.gaussian_nll_loss(x, y, tg.ones(3, 2), reduction="avg")


def poisson_nll_np(x, y, log_input, full, eps=1e-8):
    loss = np.exp(x) - y * x if log_input else x - y * np.log(x + eps)
    if full:
        safe = np.where(y > 1, y, 1)
        loss = loss + np.where(y > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe),
                               0)
    return loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll(reduction, log_input, full, device, rng, leaf):
    x = leaf(rng, 4, 5, device=device, low=-2 if log_input else 0.2, high=2)
    counts = rng.poisson(2.0, (4, 5)).astype(np.float64)
    y = tg.tensor(counts, device=device)
    f = lambda x: F.poisson_nll_loss(x, y, log_input, full, reduction=reduction)  # noqa: E731
    expected = poisson_nll_np(host(x), counts, log_input, full)
    np.testing.assert_allclose(host(f(x)), reduce_np(expected, reduction), rtol=1e-12)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_extreme_differences_stay_finite(dtype):
    x = tg.tensor([-1e4, 1e4, 3.0], dtype=dtype, requires_grad=True)
    y = tg.tensor([1e4, -1e4, 3.0], dtype=dtype)
    var = tg.tensor([1.0, 1e4, 0.0], dtype=dtype, requires_grad=True)
    for loss in (F.smooth_l1_loss(x, y), F.huber_loss(x, y), F.gaussian_nll_loss(x, y, var),
                 F.poisson_nll_loss(x / 1e3, y.abs())):
        grads = tg.autograd.grad(loss, [x, var], allow_unused=True)
        assert np.isfinite(loss.item())
        assert all(np.isfinite(host(g)).all() for g in grads if g is not None)


def test_argument_errors():
    x = tg.ones(3)
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="target shape"):
        F.smooth_l1_loss(x, tg.ones(3, 1))
    with pytest.warns(UserWarning, match="size_average"):
        assert F.poisson_nll_loss(x, x, reduce=False).shape == (3,)


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    a, b = rng.standard_normal((2, 5, 4)) * 2
    var = rng.uniform(0.1, 2, (5, 4))
    counts = rng.poisson(3.0, (5, 4)).astype(np.float64)
    w = rng.uniform(0.5, 2, (5, 4))
    cases = [("smooth_l1_loss", (a, b), {"beta": 0.5}), ("smooth_l1_loss", (a, b), {"beta": 0}),
             ("huber_loss", (a, b), {"delta": 0.7}),
             ("gaussian_nll_loss", (a, b, var), {"full": True}),
             ("gaussian_nll_loss", (a, b, var[:, :1]), {"eps": 0.5}),
             ("poisson_nll_loss", (a, counts), {"full": True}),
             ("poisson_nll_loss", (var, counts), {"log_input": False})]
    for name, args, kwargs in cases:
        for reduction in REDUCTIONS:
            check_functional_against_torch(torch, rng, name, args, reduction=reduction,
                                           **kwargs)
    y = F.huber_loss(tg.tensor(a), tg.tensor(b), weight=tg.tensor(w))
    ty = tf.huber_loss(torch.tensor(a), torch.tensor(b), weight=torch.tensor(w))
    np.testing.assert_allclose(y.item(), ty.item(), rtol=1e-12)


def test_gaussian_nll_broadcasts_the_target(rng):
    # PyTorch computes (input - target) ** 2 with broadcasting: a (1,) target serves every row
    x = tg.tensor(rng.standard_normal(5), requires_grad=True)
    y = tg.tensor(rng.standard_normal(1), requires_grad=True)
    var = tg.tensor(rng.random(5) + 0.5, requires_grad=True)
    expected = 0.5 * (np.log(host(var)) + (host(x) - host(y)) ** 2 / host(var))
    np.testing.assert_allclose(host(F.gaussian_nll_loss(x, y, var, reduction="none")), expected)
    assert gradcheck(lambda a, b, v: F.gaussian_nll_loss(a, b, v), (x, y, var))
