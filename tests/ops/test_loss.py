"""Regression, binary and divergence losses: gradients against finite differences (and second
derivatives), values against NumPy formulas and PyTorch, stability at huge logits, bad input."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen import kernels
from tinygen.autograd import gradcheck, gradgradcheck

REDUCTIONS = ["none", "mean", "sum"]


def t64(values, device="cpu", requires_grad=False):
    return tg.tensor(np.asarray(values, dtype=np.float64), device=device,
                     requires_grad=requires_grad)


def softplus(z):
    return np.logaddexp(0, z)


def reduce_np(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_l1_values_and_grads(device, rng, reduction):
    a, b = rng.standard_normal((2, 3, 4))
    x, y = t64(a, device, True), t64(b, device, True)
    np.testing.assert_allclose(host(F.mse_loss(x, y, reduction=reduction)),
                               reduce_np((a - b) ** 2, reduction), rtol=1e-12)
    np.testing.assert_allclose(host(F.l1_loss(x, y, reduction=reduction)),
                               reduce_np(np.abs(a - b), reduction), rtol=1e-12)
    assert gradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), (x, y))
    assert gradgradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), (x, y))
    assert gradcheck(lambda x, y: F.l1_loss(x, y, reduction=reduction), (x, y))


def test_weighted_mse_mean_divides_by_weight_sum(rng):
    a, b, w = rng.standard_normal((3, 5))
    w = np.abs(w)
    loss = F.mse_loss(t64(a), t64(b), weight=t64(w))
    np.testing.assert_allclose(loss.item(), (w * (a - b) ** 2).sum() / w.sum(), rtol=1e-12)


def bce_np(x, y, w=1.0):
    return -w * (y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(device, rng, reduction, weighted):
    p, y = rng.uniform(0.05, 0.95, (2, 4, 3))
    w = t64(rng.uniform(0.5, 2.0, (3,)), device) if weighted else None
    x, t = t64(p, device, True), t64(y, device, True)
    f = lambda x, t: F.binary_cross_entropy(x, t, weight=w, reduction=reduction)  # noqa: E731
    expected = bce_np(p, y, 1.0 if w is None else host(w))
    np.testing.assert_allclose(host(f(x, t)), reduce_np(expected, reduction), rtol=1e-12)
    assert gradcheck(f, (x, t))
    assert gradgradcheck(f, (x, t))


def test_binary_cross_entropy_saturated_probabilities_stay_finite():
    """x = 0 or 1 (a saturated float32 sigmoid) gives PyTorch's clamped loss and a finite grad."""
    x = tg.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    y = tg.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(x, y, reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(200.0)
    assert np.isfinite(host(x.grad)).all()
    np.testing.assert_allclose(host(x.grad), [-1e12, 1e12, 0, 0], rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight_shape", [None, (3,), (4, 1), ()])
@pytest.mark.parametrize("mode", ["fused", "reference"])
def test_bce_with_logits(device, rng, reduction, pos_weight_shape, mode):
    a, y = rng.standard_normal((4, 3)) * 3, rng.uniform(0, 1, (4, 3))
    pw = None if pos_weight_shape is None else t64(rng.uniform(0.5, 3, pos_weight_shape),
                                                   device, True)
    w = t64(rng.uniform(0.5, 2.0, (4, 3)), device)
    x, t = t64(a, device, True), t64(y, device, True)

    def f(x, t, *pw):
        return F.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction,
                                                  pos_weight=pw[0] if pw else None)
    inputs = (x, t) if pw is None else (x, t, pw)
    p = 1.0 if pw is None else host(pw)
    expected = host(w) * (p * y * softplus(-a) + (1 - y) * softplus(a))
    with kernels.use(mode):
        np.testing.assert_allclose(host(f(*inputs)), reduce_np(expected, reduction), rtol=1e-10)
        assert gradcheck(f, inputs)
        assert gradgradcheck(f, inputs)


def test_bce_with_logits_stable_at_huge_logits():
    x = tg.tensor([1e4, -1e4, 1e4, -1e4, 0.0], requires_grad=True)
    y = tg.tensor([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(host(loss), [0, 0, 1e4, 1e4, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(host(x.grad), [0, 0, 1, -1, -0.5], atol=1e-7)


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
def test_kl_div(device, rng, log_target, reduction):
    p = rng.dirichlet(np.ones(5), size=3)
    q = rng.dirichlet(np.ones(5), size=3)
    q[0, 1] = 0.0                                      # 0 log 0 = 0
    q[0] /= q[0].sum()
    log_p = t64(np.log(p), device, True)
    target = t64(np.log(q + 0.1) if log_target else q, device, not log_target)
    pointwise = (np.exp(host(target)) * (host(target) - np.log(p)) if log_target else
                 np.where(q > 0, q * np.log(np.where(q > 0, q, 1)), 0) - q * np.log(p))
    expected = {"none": pointwise, "sum": pointwise.sum(), "batchmean": pointwise.sum() / 3}
    f = lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target)  # noqa: E731
    np.testing.assert_allclose(host(f(log_p, target)), expected[reduction], rtol=1e-12)
    assert gradcheck(lambda x: f(x, target), (log_p,))
    if not log_target:                                 # d/dq, with q = 0 kept off the kink
        target.array[0, 1] = 0.05
        assert gradcheck(f, (log_p, target))


def test_kl_div_mean_warns_as_pytorch():
    x = t64(np.log([[0.5, 0.5]]))
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, t64([[0.25, 0.75]]))


@pytest.mark.parametrize("reduction", ["sum", "batchmean", "mean", "none"])
def test_gaussian_kl(device, rng, reduction):
    mu, logvar = t64(rng.standard_normal((4, 3)), device, True), t64(
        rng.standard_normal((4, 3)), device, True)
    kl = -0.5 * (1 + host(logvar) - host(mu) ** 2 - np.exp(host(logvar)))
    expected = {"sum": kl.sum(), "batchmean": kl.sum() / 4, "mean": kl.mean(), "none": kl}
    np.testing.assert_allclose(host(F.gaussian_kl(mu, logvar, reduction)), expected[reduction],
                               rtol=1e-12)
    assert gradcheck(lambda m, v: F.gaussian_kl(m, v, reduction), (mu, logvar))


def test_gaussian_kl_is_kl_of_normals(rng):
    """Against the closed form KL(N(m, s^2) || N(0, 1)) = log(1/s) + (s^2 + m^2)/2 - 1/2."""
    m, s = rng.standard_normal(6), rng.uniform(0.3, 2.0, 6)
    kl = F.gaussian_kl(t64(m), t64(np.log(s ** 2)), reduction="none")
    np.testing.assert_allclose(host(kl), np.log(1 / s) + (s ** 2 + m ** 2) / 2 - 0.5,
                               rtol=1e-12)


def test_shape_and_reduction_errors():
    x = tg.zeros(4, 1)
    with pytest.raises(ValueError, match=r"target shape \(4,\) differs from input shape \(4, 1\)"):
        F.mse_loss(x, tg.zeros(4))
    with pytest.raises(ValueError, match="target shape"):
        F.binary_cross_entropy_with_logits(x, tg.zeros(4))
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.l1_loss(x, x, reduction="avg")
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(tg.tensor([0.5, 1.5]), tg.tensor([0.0, 1.0])).item()
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, x, weight=tg.ones(3))
    with pytest.raises(ValueError, match="mu shape"):
        F.gaussian_kl(tg.zeros(2, 3), tg.zeros(2, 4))


def test_bce_of_nan_input_is_an_error_as_in_pytorch():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(tg.tensor([0.5, np.nan]), tg.tensor([0.0, 1.0])).item()


def test_legacy_size_average_and_reduce(rng):
    a, b = rng.standard_normal((2, 5))
    with pytest.warns(UserWarning, match="size_average and reduce"):
        loss = F.mse_loss(t64(a), t64(b), size_average=False)
    np.testing.assert_allclose(loss.item(), ((a - b) ** 2).sum(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_against_torch(rng, reduction):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    a, b = rng.standard_normal((2, 6, 3)) * 4
    p = rng.uniform(0.01, 0.99, (6, 3))
    a[0, :] = [1e4, -1e4, 30.0]
    pw, w = rng.uniform(0.5, 3, 3), rng.uniform(0.5, 2, (6, 1))
    y = (rng.uniform(size=(6, 3)) > 0.5).astype(np.float64)
    cases = [
        ("mse_loss", (a, b), {}),
        ("l1_loss", (a, b), {}),
        ("binary_cross_entropy", (p, y), {"weight": w}),
        ("binary_cross_entropy_with_logits", (a, y), {"weight": w, "pos_weight": pw}),
        ("kl_div", (np.log(p), y / 3), {"log_target": False}),
    ]
    for name, (x, target), kwargs in cases:
        mine_x, theirs_x = t64(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        mine = getattr(F, name)(mine_x, t64(target), reduction=reduction,
                                **{k: t64(v) if isinstance(v, np.ndarray) else v
                                   for k, v in kwargs.items()})
        theirs = getattr(tF, name)(theirs_x, torch.tensor(target), reduction=reduction,
                                   **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                      for k, v in kwargs.items()})
        np.testing.assert_allclose(host(mine), theirs.detach().numpy(), rtol=1e-10, err_msg=name)
        upstream = rng.standard_normal(theirs.shape)
        mine.backward(t64(upstream))
        theirs.backward(torch.tensor(upstream))
        np.testing.assert_allclose(host(mine_x.grad), theirs_x.grad.cpu().numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


@pytest.mark.parametrize("pos_weight_shape", [None, (3,), (4, 1)])
def test_bce_with_logits_create_graph_gradient_equals_fused(rng, pos_weight_shape):
    """Under create_graph the backward switches from the kernel to tensor ops; gradgradcheck
    alone would not notice a wrong switch (it differentiates whichever first derivative it gets)."""
    x, t = t64(rng.standard_normal((4, 3)) * 5, requires_grad=True), t64(rng.uniform(0, 1, (4, 3)))
    pw = None if pos_weight_shape is None else t64(rng.uniform(0.5, 3, pos_weight_shape))
    upstream = t64(rng.standard_normal((4, 3)))
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none", pos_weight=pw)
    (fused,) = tg.autograd.grad([loss], [x], [upstream], retain_graph=True)
    (composite,) = tg.autograd.grad([loss], [x], [upstream], create_graph=True)
    assert composite.requires_grad
    np.testing.assert_allclose(host(composite), host(fused), rtol=1e-12, atol=1e-15)


def test_l1_mse_promote_the_target_dtype():
    # PyTorch promotes input and target: float64 wins, and a complex target's |x - y| is real
    x, y64 = tg.ones(2), tg.full((2,), 0.5, dtype=tg.float64)
    assert F.l1_loss(x, y64).dtype == F.mse_loss(x, y64).dtype == tg.float64
    assert F.smooth_l1_loss(x, y64).dtype == tg.float64
    z = tg.tensor([0.3 + 2j, 1 - 1j], dtype=tg.complex128)
    x64 = tg.tensor([1.5, 1.0], dtype=tg.float64)
    loss = F.l1_loss(x64, z, reduction="none")
    assert loss.dtype == tg.float64
    np.testing.assert_allclose(host(loss), np.abs(host(x64) - host(z)))
