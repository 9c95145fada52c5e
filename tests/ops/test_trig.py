"""tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, deg2rad, rad2deg and erfc: values
against NumPy, first and second gradients against finite differences, PyTorch's dtypes."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

_host_erfc = np.vectorize(math.erfc)

# name, NumPy reference, input range inside the domain
UNARY = [
    ("tan", np.tan, (-1.2, 1.2)),
    ("asin", np.arcsin, (-0.9, 0.9)),
    ("acos", np.arccos, (-0.9, 0.9)),
    ("atan", np.arctan, (-3, 3)),
    ("sinh", np.sinh, (-2, 2)),
    ("cosh", np.cosh, (-2, 2)),
    ("asinh", np.arcsinh, (-3, 3)),
    ("acosh", np.arccosh, (1.2, 4)),
    ("atanh", np.arctanh, (-0.9, 0.9)),
    ("deg2rad", np.deg2rad, (-360, 360)),
    ("rad2deg", np.rad2deg, (-7, 7)),
    ("erfc", _host_erfc, (-3, 3)),
]


@pytest.mark.parametrize("name, ref, bounds", UNARY, ids=[c[0] for c in UNARY])
def test_values_and_gradients(name, ref, bounds, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device, low=bounds[0], high=bounds[1])
    fn = getattr(tg, name)
    np.testing.assert_allclose(host(fn(x)), ref(host(x)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(getattr(x, name)()), ref(host(x)), rtol=1e-12, atol=1e-14)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", [c[0] for c in UNARY])
def test_integers_give_the_default_float(name, device):
    x = tg.tensor([1, 2], device=device)
    with np.errstate(invalid="ignore", divide="ignore"):       # outside asin's domain ...
        assert getattr(tg, name)(x).dtype == tg.float32
        assert getattr(tg, name)(x.double()).dtype == tg.float64


def test_erfc_is_accurate_in_the_tail():
    x = tg.tensor([10.0, 26.0], dtype=tg.float64)
    np.testing.assert_allclose(host(tg.erfc(x)), [math.erfc(10.0), math.erfc(26.0)],
                               rtol=1e-14)
    assert host(tg.erfc(x))[1] > 0                   # 1 - erf(26) would be 0


def test_domain_edges_give_nan_and_inf():
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_equal(host(tg.asin(tg.tensor([2.0]))), [np.nan])
        np.testing.assert_equal(host(tg.atanh(tg.tensor([1.0, -1.0]))), [np.inf, -np.inf])


def test_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[0.1, 0.5, 0.9], [-0.3, 0.7, -0.8]], dtype=np.float32)
    for name, _, bounds in UNARY:
        shifted = values if bounds[0] < 1 else values + 2.0
        x = tg.tensor(shifted, requires_grad=True)
        t = torch.tensor(shifted, requires_grad=True)
        y, ty = getattr(tg, name)(x), getattr(torch, name)(t)
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=2e-6, err_msg=name)
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_allclose(host(x.grad), t.grad.numpy(), rtol=2e-6, err_msg=name)
