"""var_mean, std_mean, aminmax, median, kthvalue, quantile, cumprod, cummax, cummin,
logcumsumexp: values against NumPy, gradients against finite differences, PyTorch's tie and NaN
rules."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck


def test_var_mean_and_std_mean(device, rng, leaf):
    x = leaf(rng, 3, 5, device=device)
    v, m = tg.var_mean(x, 1, correction=0, keepdim=True)
    np.testing.assert_allclose(host(v), host(x).var(1, keepdims=True))
    np.testing.assert_allclose(host(m), host(x).mean(1, keepdims=True))
    s, m = tg.std_mean(x, dim=0)
    np.testing.assert_allclose(host(s), host(x).std(0, ddof=1))
    assert gradcheck(lambda t: tg.std_mean(t, 1)[0], (x,))


def test_var_mean_legacy_unbiased_and_complex():
    a = np.random.default_rng(2).standard_normal(5)
    v, m = tg.var_mean(tg.tensor(a), False)                  # var_mean(input, unbiased)
    np.testing.assert_allclose(host(v), np.var(a), rtol=1e-12)
    s, m = tg.std_mean(tg.tensor(a + 2j * a[::-1]), 0)
    assert s.dtype == tg.float64 and m.dtype == tg.complex128
    np.testing.assert_allclose(host(s), np.std(a + 2j * a[::-1], ddof=1), rtol=1e-12)


def test_aminmax(device, rng, leaf):
    x = leaf(rng, 3, 4, device=device)
    lo, hi = x.aminmax(dim=1)
    np.testing.assert_equal(host(lo), host(x).min(1))
    np.testing.assert_equal(host(hi), host(x).max(1))
    assert tg.aminmax(x).max.ndim == 0


@pytest.mark.parametrize("keepdim", [False, True])
def test_median_and_kthvalue(device, rng, leaf, keepdim):
    x = leaf(rng, 4, 6, device=device)
    values, indices = x.median(1, keepdim=keepdim)
    ref = np.sort(host(x), 1)[:, 2]                       # the lower of the two middle values
    np.testing.assert_equal(host(values).reshape(-1), ref)
    np.testing.assert_equal(host(x)[np.arange(4), host(indices).reshape(-1)], ref)
    assert host(x.median()) == np.sort(host(x).reshape(-1))[11]
    values, _ = tg.kthvalue(x, 2, dim=0, keepdim=keepdim)
    np.testing.assert_equal(host(values).reshape(-1), np.sort(host(x), 0)[1])
    assert gradcheck(lambda t: t.median(1, keepdim=keepdim).values, (x,))
    assert gradcheck(lambda t: t.kthvalue(3).values, (x,))


def test_median_nan_propagates():
    x = tg.tensor([[1.0, float("nan"), 0.0], [2.0, 1.0, 3.0]])
    values, indices = x.median(1)
    assert np.isnan(host(values)[0]) and host(indices)[0] == 1 and host(values)[1] == 2


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantile_matches_numpy(rng, leaf, interpolation):
    x = leaf(rng, 3, 7)
    q = tg.tensor([0.0, 0.25, 0.3, 0.5, 0.75, 1.0], dtype=tg.float64)   # 0.25, 0.75: ties
    out = tg.quantile(x, q, dim=1, interpolation=interpolation)
    ref = np.quantile(host(x), host(q), axis=1, method=interpolation)
    np.testing.assert_allclose(host(out), ref, rtol=1e-12)
    out = x.quantile(0.3, dim=0, keepdim=True, interpolation=interpolation)
    np.testing.assert_allclose(host(out), np.quantile(host(x), 0.3, axis=0, keepdims=True,
                                                      method=interpolation), rtol=1e-12)
    np.testing.assert_allclose(host(x.quantile(q)), np.quantile(host(x), host(q),
                                                                method=interpolation))


def test_quantile_gradient_and_shapes(device, rng, leaf):
    x = leaf(rng, 3, 5, device=device)
    q = tg.tensor([0.25, 0.6], dtype=tg.float64, device=device)
    assert tg.quantile(x, q, dim=1, keepdim=True).shape == (2, 3, 1)
    assert tg.quantile(x, q, keepdim=True).shape == (2, 1, 1)
    assert tg.quantile(x, 0.5, dim=-1).shape == (3,)
    assert gradcheck(lambda t: tg.quantile(t, q, dim=1), (x,))
    with pytest.raises(RuntimeError, match="range"):
        tg.quantile(x, 1.5)


@pytest.mark.parametrize("zeros", [(), ((1, 2),), ((0, 1), (0, 3)), ((2, 0), (2, 4))])
def test_cumprod_gradients_with_zeros(device, rng, leaf, zeros):
    values = rng.uniform(0.5, 1.5, (3, 5)) * rng.choice([-1, 1], (3, 5))
    for i, j in zeros:
        values[i, j] = 0
    x = tg.tensor(values, dtype=tg.float64, device=device, requires_grad=True)
    np.testing.assert_allclose(host(x.cumprod(1)), np.cumprod(values, 1))
    assert gradcheck(lambda t: t.cumprod(1), (x,))
    assert gradgradcheck(lambda t: t.cumprod(1), (x,))
    assert tg.cumprod(tg.tensor([1, 2, 3]), 0).dtype == tg.int64


def test_cummax_cummin(device):
    x = tg.tensor([1.0, 3.0, 3.0, 2.0, 5.0], dtype=tg.float64, device=device)
    values, indices = x.cummax(0)
    np.testing.assert_equal(host(values), [1, 3, 3, 3, 5])
    np.testing.assert_equal(host(indices), [0, 1, 2, 2, 4])    # ties take the latest, as PyTorch
    values, indices = tg.cummin(-x, 0)
    np.testing.assert_equal(host(indices), [0, 1, 2, 2, 4])
    nan = tg.tensor([1.0, float("nan"), 2.0, float("nan")]).cummax(0)
    np.testing.assert_equal(host(nan.indices), [0, 1, 1, 3])


def test_cummax_gradient(device, rng, leaf):
    x = leaf(rng, 3, 6, device=device)
    assert gradcheck(lambda t: t.cummax(1).values, (x,))
    assert gradcheck(lambda t: tg.cummin(t, 0).values, (x,))


def test_logcumsumexp_values_and_gradients(device, rng, leaf):
    x = leaf(rng, 3, 6, device=device, low=-3, high=3)
    np.testing.assert_allclose(host(x.logcumsumexp(1)),
                               np.log(np.cumsum(np.exp(host(x)), 1)), rtol=1e-12)
    assert gradcheck(lambda t: tg.logcumsumexp(t, 1), (x,))
    assert gradgradcheck(lambda t: tg.logcumsumexp(t, 0), (x,))


def test_quantile_of_a_0d_tensor_is_itself():
    x = tg.tensor(2.5, dtype=tg.float64)
    for op in (tg.quantile, tg.nanquantile):
        assert op(x, 0.3, dim=0, keepdim=True).shape == () and op(x, 0.3).item() == 2.5
        assert op(x, tg.tensor([0.2, 0.9], dtype=tg.float64), dim=-1).tolist() == [2.5, 2.5]


def test_logcumsumexp_of_complex():
    a = np.random.default_rng(3).standard_normal((3, 5))
    z = tg.tensor(a + 1j * a[::-1], requires_grad=True)
    y = tg.logcumsumexp(z, 1)
    # as PyTorch's, the imaginary part is not wrapped into (-pi, pi]: compare exp(y)
    np.testing.assert_allclose(np.exp(host(y)), np.cumsum(np.exp(host(z)), 1), rtol=1e-12)
    weight = a[:, ::-1] - 1j * a
    (grad,) = tg.autograd.grad((y * tg.tensor(weight)).real.sum(), z)

    def loss(v):
        return (np.log(np.cumsum(np.exp(v), 1)) * weight).real.sum()
    want = np.zeros_like(host(z))                 # PyTorch's convention: dL/dRe + i dL/dIm
    for index in np.ndindex(*want.shape):
        for step in (1e-6, 1e-6j):
            bump = np.zeros_like(want)
            bump[index] = step
            slope = (loss(host(z) + bump) - loss(host(z) - bump)) / 2e-6
            want[index] += slope * (step / abs(step))
    np.testing.assert_allclose(host(grad), want, rtol=1e-6, atol=1e-8)


def test_logcumsumexp_is_stable():
    x = tg.tensor([-1000.0, 0.0, 1000.0], dtype=tg.float64, requires_grad=True)
    y = x.logcumsumexp(0)
    np.testing.assert_allclose(host(y), [-1000, 0, 1000])
    y.backward(tg.tensor([1.0, -1.0, 1.0], dtype=tg.float64))
    np.testing.assert_allclose(host(x.grad), [1, -1, 1], atol=1e-12)     # dy_i exp(x_i - y_i)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(1).standard_normal((4, 6))
    x, t = tg.tensor(values), torch.tensor(values, dtype=torch.float32)
    np.testing.assert_allclose(host(x.median(1).values), t.median(1).values.numpy())
    np.testing.assert_allclose(host(x.quantile(0.3, dim=1)), t.quantile(0.3, dim=1).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(host(x.logcumsumexp(1)), t.logcumsumexp(1).numpy(), rtol=1e-6)
    np.testing.assert_equal(host(x.cummin(0).indices), t.cummin(0).indices.numpy())
