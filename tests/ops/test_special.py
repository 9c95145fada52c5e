"""expm1, log2, log10, exp2, logit, sinc, frac, nan_to_num, atan2, hypot, logaddexp(2), xlogy,
float_power, sgn, heaviside, isclose: values against NumPy, gradients against finite
differences, and PyTorch's dtypes and special values."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

# name, tinygen function, NumPy reference, input range, kinks to keep inputs away from
UNARY = [
    ("expm1", tg.expm1, np.expm1, (-2, 2), ()),
    ("exp2", lambda x: x.exp2(), np.exp2, (-2, 2), ()),
    ("log2", tg.log2, np.log2, (0.2, 3), ()),
    ("log10", lambda x: x.log10(), np.log10, (0.2, 3), ()),
    ("logit", tg.logit, lambda a: np.log(a / (1 - a)), (0.05, 0.95), ()),
    ("logit eps", lambda x: tg.logit(x, eps=0.2),
     lambda a: np.log(np.clip(a, 0.2, 0.8) / (1 - np.clip(a, 0.2, 0.8))), (0.05, 0.95),
     (0.2, 0.8)),
    ("sinc", tg.sinc, np.sinc, (-2, 2), (0,)),
    ("frac", lambda x: x.frac(), lambda a: a - np.trunc(a), (-3, 3), (-2, -1, 0, 1, 2)),
]


@pytest.mark.parametrize("name, fn, ref, bounds, kinks", UNARY, ids=[c[0] for c in UNARY])
def test_unary_values_and_gradients(name, fn, ref, bounds, kinks, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device, low=bounds[0], high=bounds[1], away_from=kinks)
    np.testing.assert_allclose(host(fn(x)), ref(host(x)), rtol=1e-12, atol=1e-14)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


BINARY = [
    ("atan2", tg.atan2, np.arctan2),
    ("hypot", tg.hypot, np.hypot),
    ("logaddexp", tg.logaddexp, np.logaddexp),
    ("logaddexp2", lambda a, b: a.logaddexp2(b), np.logaddexp2),
    ("xlogy", tg.xlogy, lambda a, b: a * np.log(b)),
    ("float_power", tg.float_power, np.power),
]


@pytest.mark.parametrize("name, fn, ref", BINARY, ids=[c[0] for c in BINARY])
def test_binary_values_and_gradients(name, fn, ref, device, rng, leaf):
    a = leaf(rng, 3, 4, device=device, low=0.3, high=2)
    b = leaf(rng, 4, device=device, low=0.3, high=2)       # broadcast
    np.testing.assert_allclose(host(fn(a, b)), ref(host(a), host(b)), rtol=1e-12)
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))


def test_sinc_at_zero_is_one_with_zero_slope():
    x = tg.tensor([0.0], dtype=tg.float64, requires_grad=True)
    y = tg.sinc(x)
    y.sum().backward()
    assert host(y)[0] == 1 and host(x.grad)[0] == 0


def test_xlogy_zero_times_log_zero():
    x = tg.tensor([0.0, 0.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = tg.tensor([0.0, float("nan"), 3.0], dtype=tg.float64, requires_grad=True)
    out = tg.xlogy(x, y)
    np.testing.assert_equal(host(out), [0.0, np.nan, 2 * np.log(3.0)])
    with np.errstate(invalid="ignore"):
        out[0].backward()
    assert host(x.grad)[0] == 0 and np.isnan(host(y.grad)[0])       # 0 / 0, as in PyTorch
    assert tg.xlogy(tg.tensor([1, 2]), 3).dtype == tg.float32


def test_logaddexp_does_not_overflow():
    a = tg.tensor([1000.0, -1000.0], dtype=tg.float64, requires_grad=True)
    y = tg.logaddexp(a, a)
    y.sum().backward()
    np.testing.assert_allclose(host(y), host(a) + np.log(2))
    np.testing.assert_allclose(host(a.grad), [1.0, 1.0])


def test_nan_to_num_values_and_gradient():
    x = tg.tensor([np.nan, np.inf, -np.inf, 1.5], dtype=tg.float32, requires_grad=True)
    y = x.nan_to_num(posinf=7.0)
    np.testing.assert_equal(host(y), np.nan_to_num(host(x), posinf=7.0))
    y.sum().backward()
    np.testing.assert_equal(host(x.grad), [0, 0, 0, 1])
    assert tg.nan_to_num(tg.tensor([1, 2])).dtype == tg.int64


def test_non_differentiable_ops():
    x = tg.tensor([-1.5, 0.0, 2.0])
    np.testing.assert_equal(host(tg.sgn(x)), [-1, 0, 1])
    np.testing.assert_equal(host(x.heaviside(tg.tensor([0.5]))), [0, 0.5, 1])
    with pytest.raises(RuntimeError, match="dtypes"):
        tg.heaviside(x, tg.tensor([1]))
    np.testing.assert_equal(host(x.isclose(x + 1e-9)), [True, True, True])
    assert tg.isclose(x, 2.0).dtype == tg.bool


def test_dtypes():
    ints = tg.tensor([1, 2, 4])
    assert tg.log2(ints).dtype == tg.float32
    assert tg.float_power(ints, 2).dtype == tg.float64
    assert tg.atan2(ints, ints).dtype == tg.float32
    np.testing.assert_allclose(host(tg.log2(ints)), [0, 1, 2])


def test_float_power_of_complex_is_complex128():
    z = tg.tensor(np.array([1 + 1j, -2 + 0.5j]), dtype=tg.complex64)
    for y in (tg.float_power(z, 2), tg.float_power(tg.tensor([2.0, 3.0]), z),
              tg.float_power(tg.tensor([2.0]), 1j)):
        assert y.dtype == tg.complex128
    np.testing.assert_allclose(host(tg.float_power(z, 2)), host(z).astype(np.complex128) ** 2)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([0.1, 0.5, 0.9])
    x, t = tg.tensor(values), torch.tensor(values, dtype=torch.float32)
    for name in ("expm1", "exp2", "log2", "log10", "logit", "sinc", "frac"):
        np.testing.assert_allclose(host(getattr(tg, name)(x)), getattr(torch, name)(t).numpy(),
                                   rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(host(tg.logit(x, eps=0.3)), torch.logit(t, eps=0.3).numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("tol", ["rtol", "atol"])
def test_isclose_refuses_a_negative_tolerance(tol):
    with pytest.raises(RuntimeError, match=f"{tol} must be greater than or equal to zero"):
        tg.isclose(tg.tensor(1.0), tg.tensor(1.0), **{tol: -0.4})
