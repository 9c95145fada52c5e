"""erf, reciprocal, rounding, rounded division (remainder, fmod, floor_divide, div with a
rounding_mode), one-sided clamps and lerp: values against NumPy/math, gradients against finite
differences, the zero gradient of rounding and PyTorch's dtypes."""

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


def _off_the_jumps(rng, device, n=6):
    """Float64 leaves a and b whose quotient a / b is at least 0.1 from a whole number, so
    finite differences of a % b never straddle a jump."""
    b = rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n)
    a = (rng.integers(-3, 4, n) + rng.uniform(0.1, 0.9, n)) * b
    return (tg.tensor(v, dtype=tg.float64, device=device, requires_grad=True) for v in (a, b))


@pytest.mark.parametrize("name, ref", [("remainder", np.remainder), ("fmod", np.fmod)])
def test_remainder_and_fmod_gradcheck(name, ref, device, rng):
    a, b = _off_the_jumps(rng, device)
    np.testing.assert_allclose(host(getattr(tg, name)(a, b)), ref(host(a), host(b)), rtol=1e-12)
    for f in (getattr(tg, name), lambda a, b: getattr(a, name)(b) * b):
        assert gradcheck(f, (a, b))
        assert gradgradcheck(f, (a, b))


def test_remainder_takes_the_divisor_sign_and_fmod_the_dividend_sign(device):
    a = tg.tensor([3.5, -3.5, 3.5, -3.5], dtype=tg.float64, device=device, requires_grad=True)
    b = tg.tensor([1.5, 1.5, -1.5, -1.5], dtype=tg.float64, device=device, requires_grad=True)
    for f, values, quotient in [(tg.remainder, [0.5, 1.0, -1.0, -0.5], [2, -3, -3, 2]),
                                (tg.fmod, [0.5, -0.5, 0.5, -0.5], [2, -2, -2, 2])]:
        y = f(a, b)
        np.testing.assert_allclose(host(y), values, rtol=1e-15)
        da, db = tg.autograd.grad(y, (a, b), tg.ones_like(y))
        np.testing.assert_array_equal(host(da), 1)
        np.testing.assert_array_equal(host(db), -np.array(quotient))   # d/db = -quotient
    n = tg.tensor([7, -7], device=device)
    assert tg.remainder(n, 3).tolist() == [1, 2] and n.fmod(3).tolist() == [1, -1]


def test_mod_operator_is_differentiable(device):
    x = tg.tensor([3.5, -1.25], device=device, requires_grad=True)
    (x % 1.0 + x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    y = tg.tensor([0.75, 2.0], device=device, requires_grad=True)
    (1.0 % y).sum().backward()                        # reflected: d(1 % y)/dy = -floor(1 / y)
    assert y.grad.tolist() == [-1.0, 0.0]


def test_reflected_floor_divide_and_mod(device):
    x, n = tg.tensor([1.5, -0.7], device=device), tg.tensor([3, -4], device=device)
    assert (2 // x).tolist() == [1.0, -3.0] and (2 // n).tolist() == [0, -1]
    np.testing.assert_allclose(host(1.0 % x), [1.0, -0.4], rtol=1e-6)
    assert (7 % n).tolist() == [1, -1] and (7 % n).dtype == tg.int64


def test_floor_divide_is_outside_the_graph(device):
    x = tg.tensor([7.5, -7.5], device=device, requires_grad=True)
    for y in (x // 2, tg.floor_divide(x, 2), x.floor_divide(tg.tensor(2.0, device=device))):
        assert not y.requires_grad and y.tolist() == [3.0, -4.0]
    n = tg.tensor([7, -7], device=device)
    assert (n // 2).dtype == tg.int64 and (n // 2.5).dtype == tg.float32
    assert (n // 2.5).tolist() == [2.0, -3.0]


def test_floor_divide_rounds_as_python_on_cpu():
    """NumPy, PyTorch and Python give 1 // 0.1 == 9 (0.1 is a little above 1/10); CuPy computes
    floor(1 / 0.1), where the division rounds to 10, so this edge is CPU-only."""
    assert tg.floor_divide(tg.tensor([1.0]), 0.1).tolist() == [9.0]
    assert tg.div(1.0, tg.tensor([0.1]), rounding_mode="floor").tolist() == [9.0]


@pytest.mark.parametrize("mode, ints, floats", [
    ("trunc", [3, -3, -3, 3], [3.0, -3.0, -3.0, 3.0]),
    ("floor", [3, -4, -4, 3], [3.0, -4.0, -4.0, 3.0])])
def test_div_rounding_mode(mode, ints, floats, device):
    a, b = [7, -7, 7, -7], [2, 2, -2, -2]
    y = tg.div(tg.tensor(a, device=device), tg.tensor(b, device=device), rounding_mode=mode)
    assert y.dtype == tg.int64 and y.tolist() == ints
    x = tg.tensor(a, dtype=tg.float64, device=device, requires_grad=True)
    d = tg.tensor(b, dtype=tg.float64, device=device, requires_grad=True)
    y = x.div(d, rounding_mode=mode)
    assert y.dtype == tg.float64 and y.tolist() == floats
    dx, dd = tg.autograd.grad(y, (x, d), tg.ones_like(y))   # a step function: gradient 0
    assert dx.tolist() == [0.0] * 4 and dd.tolist() == [0.0] * 4
    assert tg.div(x, 2, rounding_mode=mode).tolist() == floats[:2] * 2
    z = tg.tensor(a, device=device)
    assert z.div_(tg.tensor(b, device=device), rounding_mode=mode) is z    # keeps int64
    assert z.dtype == tg.int64 and z.tolist() == ints and z._version == 1


def test_div_rounding_mode_is_checked():
    with pytest.raises(ValueError, match="rounding_mode"):
        tg.div(tg.ones(2), 2, rounding_mode="round")


@pytest.mark.parametrize("fn, x_grad, bound_grad", [
    (tg.clamp_min, [0.0, 1.0, 1.0], [1.0, 0.0, 0.0]),
    (tg.clamp_max, [1.0, 1.0, 0.0], [0.0, 0.0, 1.0])])
def test_one_sided_clamp_with_tensor_bound_at_ties(fn, x_grad, bound_grad, device):
    """The bound is inclusive for x; the tensor bound gets the gradient only where x is beyond
    it (PyTorch), not half of it at the tie as maximum/minimum would give."""
    x = tg.tensor([0.0, 1.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    bound = tg.ones(3, dtype=tg.float64, device=device, requires_grad=True)
    dx, db = tg.autograd.grad(fn(x, bound), (x, bound), tg.ones_like(x))
    assert dx.tolist() == x_grad and db.tolist() == bound_grad


@pytest.mark.parametrize("name", ["erf", "reciprocal", "floor", "ceil", "round", "trunc"])
def test_matches_torch(name, rng):
    torch = pytest.importorskip("torch")
    a = rng.uniform(-3, 3, size=(4, 5))
    np.testing.assert_allclose(host(getattr(tg, name)(tg.tensor(a, dtype=tg.float64))),
                               getattr(torch, name)(torch.tensor(a)).cpu().numpy(), rtol=1e-14)


@pytest.mark.parametrize("name", ["remainder", "fmod"])
def test_rounded_division_matches_torch(name, rng):
    torch = pytest.importorskip("torch")
    a, b = rng.uniform(-4, 4, 8), rng.uniform(0.3, 2, 8) * rng.choice([-1, 1], 8)
    ours = [tg.tensor(v, dtype=tg.float64, requires_grad=True) for v in (a, b)]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b)]
    getattr(tg, name)(*ours).sum().backward()
    getattr(torch, name)(*theirs).sum().backward()
    for t, th in zip(ours, theirs):
        np.testing.assert_allclose(host(t.grad), th.grad.numpy(), rtol=1e-15)
    for mode in ("trunc", "floor"):
        np.testing.assert_array_equal(host(tg.div(*ours, rounding_mode=mode)),
                                      torch.div(*theirs, rounding_mode=mode).detach().numpy())


INTEGER_DIVISIONS = [
    ("//", lambda a, b: a // b), ("%", lambda a, b: a % b),
    ("floor_divide", tg.floor_divide), ("remainder", tg.remainder), ("fmod", tg.fmod),
    ("div floor", lambda a, b: tg.div(a, b, rounding_mode="floor")),
    ("div trunc", lambda a, b: tg.div(a, b, rounding_mode="trunc")),
]


@pytest.mark.parametrize("name, fn", INTEGER_DIVISIONS, ids=[c[0] for c in INTEGER_DIVISIONS])
@pytest.mark.parametrize("dtype", [tg.int64, tg.int32, tg.uint8])
def test_integer_division_by_zero_raises(name, fn, dtype, device):
    """PyTorch raises on an integer zero divisor (a number or any entry of a tensor), where
    NumPy would warn and give 0; a GPU reports it when the result is read."""
    a = tg.tensor([5, 7, 3], dtype=dtype, device=device)
    divisors = [0, tg.tensor([1, 0, 2], dtype=dtype, device=device),
                tg.tensor(0, dtype=dtype, device=device)]
    for b in divisors:
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(a, b).tolist()
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(7, divisors[1]).tolist()                  # the reflected form, 7 // tensor
    assert fn(a, 2).tolist() == ([1, 1, 1] if name in ("%", "remainder", "fmod") else [2, 3, 1])
    assert fn(tg.tensor([], dtype=dtype, device=device), 0).shape == (0,)  # nothing divided


@pytest.mark.parametrize("name, fn", INTEGER_DIVISIONS, ids=[c[0] for c in INTEGER_DIVISIONS])
def test_float_division_by_zero_gives_inf_or_nan(name, fn, device):
    """Floats keep IEEE results: a // 0 is +-inf, a % 0 and fmod(a, 0) are nan, as in NumPy and
    PyTorch; an integer tensor over a float zero is float division."""
    a = np.array([5.0, -7.0, 0.5])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = fn(a, 0.0) if name in ("//", "%") else {
            "floor_divide": np.floor_divide, "remainder": np.remainder, "fmod": np.fmod,
            "div floor": np.floor_divide, "div trunc": lambda x, y: np.trunc(x / y)}[name](a, 0.0)
        got = fn(tg.tensor(a, device=device), 0.0)
        from_ints = fn(tg.tensor([5, -7], device=device), 0.0)
    np.testing.assert_array_equal(host(got), expected)
    assert from_ints.dtype == tg.float32
    np.testing.assert_array_equal(host(from_ints), expected[:2].astype(np.float32))


@pytest.mark.parametrize("name", ["floor_divide", "remainder", "fmod"])
def test_integer_division_by_zero_matches_torch(name):
    torch = pytest.importorskip("torch")
    for module in (torch, tg):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            getattr(module, name)(module.tensor([5, 7]), module.tensor([1, 0]))


def test_frexp_mantissa_gradient(device):
    x = tg.tensor([3.0, -0.7, 5.5, 1e-3], dtype=tg.float64, device=device, requires_grad=True)
    mantissa, exponent = tg.frexp(x)
    assert mantissa.requires_grad and not exponent.requires_grad
    (grad,) = tg.autograd.grad(mantissa.sum(), x)
    np.testing.assert_array_equal(host(grad), 2.0 ** -host(exponent))     # d m / dx = 2**-e
    assert gradcheck(lambda t: tg.frexp(t)[0], (x,))
    assert gradgradcheck(lambda t: tg.frexp(t)[0], (x,))
