"""erf, reciprocal, rounding, one-sided clamps and lerp: values against NumPy/math, gradients
against finite differences, the zero gradient of rounding and PyTorch's dtypes."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

# name, tinygen function, reference, input range, kinks to keep inputs away from
SMOOTH = [
    ("erf", tg.erf, np.vectorize(math.erf), (-2.5, 2.5), ()),
    ("reciprocal", tg.reciprocal, lambda a: 1 / a, (0.5, 2), ()),
    ("clamp_min", lambda x: tg.clamp_min(x, -0.2), lambda a: np.maximum(a, -0.2), (-1, 1),
     (-0.2,)),
    ("clamp_max", lambda x: x.clamp_max(0.3), lambda a: np.minimum(a, 0.3), (-1, 1), (0.3,)),
    ("lerp number", lambda x: x.lerp(x * x, 0.25), lambda a: a + 0.25 * (a * a - a), (-1, 1),
     ()),
]


@pytest.mark.parametrize("name, fn, ref, bounds, kinks", SMOOTH, ids=[c[0] for c in SMOOTH])
def test_values_and_gradients(name, fn, ref, bounds, kinks, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device, low=bounds[0], high=bounds[1], away_from=kinks)
    np.testing.assert_allclose(host(fn(x)), ref(host(x)), rtol=1e-13, atol=1e-15)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_erf_derivative_is_the_gaussian(device, rng, leaf):
    x = leaf(rng, 7, device=device, low=-3, high=3)
    x.erf().backward(tg.ones(7, dtype=tg.float64, device=device))
    np.testing.assert_allclose(host(x.grad), 2 / math.sqrt(math.pi) * np.exp(-host(x) ** 2),
                               rtol=1e-13)


def test_erf_float32_and_limits(device):
    x = tg.tensor([-np.inf, -1.0, 0.0, 0.5, np.inf], device=device)
    y = x.erf()
    assert y.dtype == tg.float32
    np.testing.assert_allclose(host(y), [-1, math.erf(-1), 0, math.erf(0.5), 1], rtol=1e-6)


def test_lerp_with_tensor_weight_gradcheck(device, rng, leaf):
    start, end, weight = (leaf(rng, 2, 3, device=device) for _ in range(3))
    np.testing.assert_allclose(host(tg.lerp(start, end, weight)),
                               host(start) + host(weight) * (host(end) - host(start)))
    assert gradcheck(tg.lerp, (start, end, weight))
    assert gradgradcheck(tg.lerp, (start, end, weight))


ROUNDING = [("floor", tg.floor, np.floor), ("ceil", tg.ceil, np.ceil),
            ("round", tg.round, np.round), ("trunc", tg.trunc, np.trunc)]


@pytest.mark.parametrize("name, fn, ref", ROUNDING, ids=[r[0] for r in ROUNDING])
def test_rounding_values_and_zero_gradient(name, fn, ref, device):
    a = np.array([-2.5, -1.5, -0.7, -0.5, 0.0, 0.4, 0.5, 1.5, 2.5, 2.7])
    x = tg.tensor(a, dtype=tg.float64, device=device, requires_grad=True)
    y = getattr(x, name)()
    np.testing.assert_array_equal(host(fn(x)), ref(a))
    np.testing.assert_array_equal(host(y), ref(a))
    y.backward(tg.ones(a.shape, dtype=tg.float64, device=device))
    np.testing.assert_array_equal(host(x.grad), 0)


def test_round_is_half_to_even_and_takes_decimals(device):
    x = tg.tensor([0.5, 1.5, 2.5, 1.234, -1.256], dtype=tg.float64, device=device)
    np.testing.assert_allclose(host(tg.round(x)), [0, 2, 2, 1, -1])
    np.testing.assert_allclose(host(x.round(decimals=2)), [0.5, 1.5, 2.5, 1.23, -1.26])


@pytest.mark.parametrize("fn", [tg.floor, tg.ceil, tg.round, tg.trunc])
def test_rounding_an_integer_tensor_keeps_it(fn):
    x = tg.tensor([-3, 0, 7])
    y = fn(x)
    assert y.dtype == tg.int64 and y.tolist() == [-3, 0, 7]


def test_reciprocal_of_integers_is_float():
    y = tg.tensor([1, 2, 4]).reciprocal()
    assert y.dtype == tg.float32 and y.tolist() == [1.0, 0.5, 0.25]


@pytest.mark.parametrize("name", ["erf", "reciprocal", "floor", "ceil", "round", "trunc"])
def test_matches_torch(name, rng):
    torch = pytest.importorskip("torch")
    a = rng.uniform(-3, 3, size=(4, 5))
    np.testing.assert_allclose(host(getattr(tg, name)(tg.tensor(a, dtype=tg.float64))),
                               getattr(torch, name)(torch.tensor(a)).cpu().numpy(), rtol=1e-14)
