"""Elementwise ops: values against NumPy, gradients against finite differences, PyTorch's dtype
promotion and tie-breaking, and the errors a user sees."""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

SHAPES = [(), (5,), (3, 1, 4), (0, 3)]


def sigmoid_ref(a):
    return 1 / (1 + np.exp(-a))


# name, tinygen function, NumPy reference, input range, kinks to keep inputs away from
UNARY = [
    ("exp", tg.exp, np.exp, (-2, 2), ()),
    ("log", tg.log, np.log, (0.5, 3), ()),
    ("log1p", tg.log1p, np.log1p, (-0.5, 2), ()),
    ("sqrt", tg.sqrt, np.sqrt, (0.5, 3), ()),
    ("rsqrt", tg.rsqrt, lambda a: 1 / np.sqrt(a), (0.5, 3), ()),
    ("sin", tg.sin, np.sin, (-3, 3), ()),
    ("cos", tg.cos, np.cos, (-3, 3), ()),
    ("tanh", tg.tanh, np.tanh, (-2, 2), ()),
    ("sigmoid", tg.sigmoid, sigmoid_ref, (-4, 4), ()),
    ("relu", tg.relu, lambda a: np.maximum(a, 0), (-1, 1), (0,)),
    ("abs", tg.abs, np.abs, (-1, 1), (0,)),
    ("neg", tg.neg, np.negative, (-1, 1), ()),
    ("unary minus", operator.neg, np.negative, (-1, 1), ()),
    ("square", tg.square, np.square, (-2, 2), ()),
    ("clamp", lambda x: tg.clamp(x, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), (-1, 1),
     (-0.5, 0.5)),
    ("clamp min", lambda x: x.clamp(min=-0.5), lambda a: np.maximum(a, -0.5), (-1, 1), (-0.5,)),
    ("clamp max", lambda x: x.clamp(max=0.5), lambda a: np.minimum(a, 0.5), (-1, 1), (0.5,)),
    ("clone", tg.clone, np.copy, (-1, 1), ()),
    ("x + 2", lambda x: x + 2, lambda a: a + 2, (-1, 1), ()),
    ("2 + x", lambda x: 2 + x, lambda a: 2 + a, (-1, 1), ()),
    ("x - 2", lambda x: x - 2, lambda a: a - 2, (-1, 1), ()),
    ("2 - x", lambda x: 2 - x, lambda a: 2 - a, (-1, 1), ()),
    ("x * 3", lambda x: x * 3, lambda a: a * 3, (-1, 1), ()),
    ("3 * x", lambda x: 3 * x, lambda a: 3 * a, (-1, 1), ()),
    ("x / 3", lambda x: x / 3, lambda a: a / 3, (-1, 1), ()),
    ("3 / x", lambda x: 3 / x, lambda a: 3 / a, (0.5, 2), ()),
    ("x ** 3", lambda x: x ** 3, lambda a: a ** 3, (-1, 1), ()),
    ("x ** 0.5", lambda x: x ** 0.5, np.sqrt, (0.5, 2), ()),
    ("x ** -1.5", lambda x: x ** -1.5, lambda a: a ** -1.5, (0.5, 2), ()),
    ("2 ** x", lambda x: 2 ** x, lambda a: 2 ** a, (-1, 1), ()),
]
UNARY_IDS = [case[0] for case in UNARY]


@pytest.mark.parametrize("name, op, ref, domain, kinks", UNARY, ids=UNARY_IDS)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_unary_forward_matches_numpy(name, op, ref, domain, kinks, dtype, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device, low=domain[0], high=domain[1], dtype=dtype,
             requires_grad=False)
    y = op(x)
    assert y.dtype == dtype
    assert y.shape == (3, 4)
    rtol = 1e-6 if dtype == tg.float32 else 1e-12
    np.testing.assert_allclose(host(y), ref(host(x).astype(np.float64)), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name, op, ref, domain, kinks", UNARY, ids=UNARY_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_unary_gradcheck(name, op, ref, domain, kinks, shape, device, rng, leaf):
    x = leaf(rng, *shape, device=device, low=domain[0], high=domain[1], away_from=kinks)
    assert gradcheck(op, (x,))
    assert gradgradcheck(op, (x,))


@pytest.mark.parametrize("name, op, ref, domain, kinks", UNARY, ids=UNARY_IDS)
def test_unary_zero_size_backward(name, op, ref, domain, kinks, device, rng, leaf):
    x = leaf(rng, 0, 3, device=device, low=domain[0], high=domain[1])
    y = op(x)
    assert y.shape == (0, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 3)
    assert x.grad.dtype == tg.float64


# name, tinygen function, NumPy reference, range of a, range of b
BINARY = [
    ("add", operator.add, np.add, (-1, 1), (-1, 1)),
    ("sub", operator.sub, np.subtract, (-1, 1), (-1, 1)),
    ("mul", operator.mul, np.multiply, (-1, 1), (-1, 1)),
    ("div", operator.truediv, np.divide, (-1, 1), (0.5, 2)),
    ("pow", operator.pow, np.power, (0.5, 2), (-2, 2)),
    ("tg.add", tg.add, np.add, (-1, 1), (-1, 1)),
    ("tg.div", tg.div, np.divide, (-1, 1), (0.5, 2)),
    ("maximum", tg.maximum, np.maximum, (-1, 1), (-1, 1)),
    ("minimum", tg.minimum, np.minimum, (-1, 1), (-1, 1)),
    ("max(a, b)", tg.max, np.maximum, (-1, 1), (-1, 1)),
    ("min(a, b)", tg.min, np.minimum, (-1, 1), (-1, 1)),
]
BINARY_IDS = [case[0] for case in BINARY]

broadcastable_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                    min_side=0, max_side=3)


@pytest.mark.parametrize("name, op, ref, range_a, range_b", BINARY, ids=BINARY_IDS)
@settings(max_examples=15, deadline=None)
@given(shapes=broadcastable_pairs, seed=st.integers(0, 2**32 - 1))
def test_binary_broadcasting(name, op, ref, range_a, range_b, shapes, seed, device, leaf):
    rng = np.random.default_rng(seed)
    shape_a, shape_b = shapes.input_shapes
    a = leaf(rng, *shape_a, device=device, low=range_a[0], high=range_a[1])
    b = leaf(rng, *shape_b, device=device, low=range_b[0], high=range_b[1])
    y = op(a, b)
    assert y.shape == shapes.result_shape
    np.testing.assert_allclose(host(y), ref(host(a), host(b)), rtol=1e-12)
    assert gradcheck(op, (a, b))


@pytest.mark.parametrize("name, op, ref, range_a, range_b", BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("shape_a, shape_b", [((3, 1, 4), (2, 4)), ((), (2, 3)),
                                              ((0, 3), (1, 3))], ids=str)
def test_binary_gradgradcheck(name, op, ref, range_a, range_b, shape_a, shape_b, device, rng,
                              leaf):
    a = leaf(rng, *shape_a, device=device, low=range_a[0], high=range_a[1])
    b = leaf(rng, *shape_b, device=device, low=range_b[0], high=range_b[1])
    assert gradcheck(op, (a, b))
    assert gradgradcheck(op, (a, b))


@pytest.mark.parametrize("name, op, ref, range_a, range_b", BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_binary_forward_dtype(name, op, ref, range_a, range_b, dtype, device, rng, leaf):
    a = leaf(rng, 2, 3, device=device, low=range_a[0], high=range_a[1], dtype=dtype)
    b = leaf(rng, 3, device=device, low=range_b[0], high=range_b[1], dtype=dtype)
    y = op(a, b)
    assert y.dtype == dtype
    rtol = 1e-6 if dtype == tg.float32 else 1e-12
    np.testing.assert_allclose(host(y), ref(host(a).astype(np.float64),
                                            host(b).astype(np.float64)), rtol=rtol)


@pytest.mark.parametrize("name, op, ref, range_a, range_b", BINARY, ids=BINARY_IDS)
def test_binary_zero_size_backward(name, op, ref, range_a, range_b, device, rng, leaf):
    """A (1, 3) operand broadcast against a (0, 3) one gets a zero gradient of its own shape."""
    a = leaf(rng, 0, 3, device=device, low=range_a[0], high=range_a[1])
    b = leaf(rng, 1, 3, device=device, low=range_b[0], high=range_b[1])
    y = op(a, b)
    assert y.shape == (0, 3)
    y.sum().backward()
    assert a.grad.shape == (0, 3)
    np.testing.assert_array_equal(host(b.grad), np.zeros((1, 3)))


@settings(max_examples=15, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=0,
                                            max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_where_broadcasting(shapes, seed, device, leaf):
    rng = np.random.default_rng(seed)
    shape_c, shape_a, shape_b = shapes.input_shapes
    cond = tg.tensor(np.asarray(rng.random(shape_c) < 0.5), device=device)
    a = leaf(rng, *shape_a, device=device)
    b = leaf(rng, *shape_b, device=device)
    y = tg.where(cond, a, b)
    assert y.shape == shapes.result_shape
    np.testing.assert_array_equal(host(y), np.where(host(cond), host(a), host(b)))
    assert gradcheck(lambda a, b: tg.where(cond, a, b), (a, b))


def test_where_gradients_and_numbers(device, rng, leaf):
    a, b = leaf(rng, 2, 3, device=device), leaf(rng, 3, device=device)
    cond = tg.tensor([[True, False, True], [False, False, True]], device=device)
    f = lambda a, b: tg.where(cond, a, b)          # noqa: E731
    assert gradcheck(f, (a, b))
    assert gradgradcheck(f, (a, b))
    g = tg.tensor(rng.standard_normal((2, 3)), dtype=tg.float64, device=device)
    tg.where(cond, a, b).backward(g)
    mask = host(cond)
    np.testing.assert_array_equal(host(a.grad), np.where(mask, host(g), 0))
    np.testing.assert_array_equal(host(b.grad), np.where(mask, 0, host(g)).sum(0))
    y = tg.where(a > 0, a, 0.0)
    np.testing.assert_array_equal(host(y), np.where(host(a) > 0, host(a), 0))
    assert y.dtype == tg.float64
    y = a.masked_fill(cond, -1.5)
    np.testing.assert_array_equal(host(y), np.where(mask, -1.5, host(a)))


def test_clamp_with_tensor_bounds(device, rng, leaf):
    x = leaf(rng, 3, 4, device=device, low=-2, high=2)
    lo = leaf(rng, 4, device=device, low=-1.5, high=-0.5)
    hi = leaf(rng, 3, 1, device=device, low=0.5, high=1.5)
    y = tg.clamp(x, lo, hi)
    np.testing.assert_array_equal(host(y), np.clip(host(x), host(lo), host(hi)))
    assert gradcheck(tg.clamp, (x, lo, hi))
    assert gradgradcheck(tg.clamp, (x, lo, hi))


def test_clamp_with_tensor_bounds_routes_the_gradient_as_pytorch(device):
    """x gets the gradient where lo <= x <= hi (bounds included), lo only where x < lo < hi, hi
    where x > hi or hi < lo (then the result is hi); at lo == hi > x nobody gets it. Values
    from PyTorch 2.x."""
    t = lambda v: tg.tensor(v, dtype=tg.float64, device=device, requires_grad=True)  # noqa
    x, lo, hi = t([0, 1, 2, 3, 4, 0, 5, 3, 1]), t([0, 2, 2, 1, 1, 3, 3, 3, 2]), t(
        [1, 3, 2, 3, 3.5, 1, 1, 3, 2])
    g = tg.arange(1.0, 10.0, dtype=tg.float64, device=device)
    y = tg.clamp(x, lo, hi)
    assert y.tolist() == [0, 2, 2, 3, 3.5, 1, 1, 3, 2]
    dx, dlo, dhi = tg.autograd.grad(y, (x, lo, hi), g)
    assert dx.tolist() == [1, 0, 3, 4, 0, 0, 0, 8, 0]
    assert dlo.tolist() == [0, 2, 0, 0, 0, 0, 0, 0, 0]
    assert dhi.tolist() == [0, 0, 0, 0, 5, 6, 7, 0, 0]


def test_clamp_with_number_bounds_the_wrong_way_round_gives_max(device):
    x = tg.tensor([0.0, 2.0, 5.0], dtype=tg.float64, device=device, requires_grad=True)
    y = x.clamp(3, 1)
    assert y.tolist() == [1.0, 1.0, 1.0]
    (dx,) = tg.autograd.grad(y, x, tg.ones_like(x))
    assert dx.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("make, dtype, values", [
    (lambda d: tg.tensor([1, 2, 3], device=d).clamp(min=1.5), tg.float32, [1.5, 2, 3]),
    (lambda d: tg.tensor([1, 2, 3], device=d).clamp(1, 2.5), tg.float32, [1, 2, 2.5]),
    (lambda d: tg.tensor([1, 2, 3], device=d).clamp(max=2), tg.int64, [1, 2, 2]),
    (lambda d: tg.tensor([True, False], device=d).clamp(min=0.5), tg.float32, [1, 0.5]),
    (lambda d: tg.tensor([1, 2, 3], device=d).clamp(tg.tensor([1.5] * 3, device=d)), tg.float32,
     [1.5, 2, 3]),
    (lambda d: tg.ones(2, device=d).clamp(tg.zeros(2, dtype=tg.float64, device=d)), tg.float64,
     [1, 1]),
    (lambda d: tg.ones(2, device=d).clamp(tg.tensor(0.0, dtype=tg.float64, device=d)),
     tg.float32, [1, 1]),
    (lambda d: tg.tensor([1, 2], device=d).clamp(tg.tensor(1.5, device=d),
                                                 tg.tensor(2.5, dtype=tg.float64, device=d)),
     tg.float64, [1.5, 2]),
], ids=["int min=1.5", "int 1..2.5", "int max=2", "bool min=0.5", "int, f32 tensor",
        "f32, f64 tensor", "f32, 0-d f64", "int, 0-d f32 and f64"])
def test_clamp_result_dtype_follows_pytorch(make, dtype, values, device):
    y = make(device)
    assert y.dtype == dtype and y.tolist() == values


@pytest.mark.parametrize("op, values", [(tg.add, [7.0, -1.0]), (tg.sub, [-5.0, 5.0])])
def test_add_and_sub_take_alpha(op, values, device):
    a = tg.tensor([1.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    b = tg.tensor([2.0, -1.0], dtype=tg.float64, device=device, requires_grad=True)
    y = op(a, b, alpha=3)
    assert y.tolist() == values
    assert op(tg.tensor([1, 2], device=device), 1, alpha=2).dtype == tg.int64
    f = lambda a, b: op(a, b, alpha=-0.5)       # noqa: E731
    assert gradcheck(f, (a, b))


def test_clamp_needs_a_bound(device):
    with pytest.raises(ValueError, match="clamp"):
        tg.clamp(tg.ones(3, device=device))


def test_ties_and_kinks_follow_pytorch(device):
    """maximum/minimum split ties in half; clamp passes the gradient at its bounds; relu and abs
    have gradient 0 at 0."""
    a = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, device=device, requires_grad=True)
    b = tg.tensor([1.0, 1.0, 4.0], dtype=tg.float64, device=device, requires_grad=True)
    g = tg.tensor([2.0, 3.0, 5.0], dtype=tg.float64, device=device)
    for op, grad_a, grad_b in [(tg.maximum, [1.0, 3.0, 0.0], [1.0, 0.0, 5.0]),
                               (tg.minimum, [1.0, 0.0, 5.0], [1.0, 3.0, 0.0])]:
        da, db = tg.autograd.grad(op(a, b), (a, b), g)
        np.testing.assert_array_equal(host(da), grad_a)
        np.testing.assert_array_equal(host(db), grad_b)
    x = tg.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], dtype=tg.float64, device=device,
                  requires_grad=True)
    for f, expected in [(lambda x: x.clamp(-0.5, 0.5), [0, 1, 1, 1, 0]),
                        (tg.relu, [0, 0, 0, 1, 1]),
                        (tg.abs, [-1, -1, 0, 1, 1])]:
        (dx,) = tg.autograd.grad(f(x), x, tg.ones_like(x))
        np.testing.assert_array_equal(host(dx), expected)


def test_pow_at_zero(device):
    x = tg.tensor([0.0, 1.5], dtype=tg.float64, device=device, requires_grad=True)
    for exponent, expected in [(2, [0.0, 3.0]), (1, [1.0, 1.0]), (0, [0.0, 0.0]),
                               (2.5, [0.0, 2.5 * 1.5 ** 1.5])]:
        (dx,) = tg.autograd.grad((x ** exponent).sum(), x)
        np.testing.assert_allclose(host(dx), expected, rtol=1e-12)
        assert np.isfinite(host(dx)).all()
    np.testing.assert_array_equal(host(x ** 0), [1.0, 1.0])
    e = tg.tensor([2.0, 3.0], dtype=tg.float64, device=device, requires_grad=True)
    dx, de = tg.autograd.grad((x ** e).sum(), (x, e))
    np.testing.assert_allclose(host(dx), [0.0, 3 * 1.5 ** 2], rtol=1e-12)
    np.testing.assert_allclose(host(de), [0.0, 1.5 ** 3 * np.log(1.5)], rtol=1e-12)


def test_cast_gradient_returns_to_input_dtype(device, rng, leaf):
    x = leaf(rng, 3, device=device)
    y = x.float()
    assert y.dtype == tg.float32
    np.testing.assert_array_equal(host(y), host(x).astype(np.float32))
    g = tg.tensor([1.0, -2.0, 0.5], device=device)
    y.backward(g)
    assert x.grad.dtype == tg.float64
    np.testing.assert_array_equal(host(x.grad), [1.0, -2.0, 0.5])


def _int(values, device):
    return tg.tensor(values, device=device)


PROMOTIONS = [
    ("int * 0.5", lambda d: _int([1, 2], d) * 0.5, tg.float32),
    ("0.5 * int", lambda d: 0.5 * _int([1, 2], d), tg.float32),
    ("int + 1", lambda d: _int([1, 2], d) + 1, tg.int64),
    ("int32 + int", lambda d: tg.tensor([1], dtype=tg.int32, device=d) + 1, tg.int32),
    ("int32 + int64", lambda d: tg.tensor([1], dtype=tg.int32, device=d) + _int([1], d),
     tg.int64),
    ("f32 * 2.0", lambda d: tg.ones(2, device=d) * 2.0, tg.float32),
    ("f32 * 2", lambda d: tg.ones(2, device=d) * 2, tg.float32),
    ("f64 * 2.0", lambda d: tg.ones(2, dtype=tg.float64, device=d) * 2.0, tg.float64),
    ("f32 + f64", lambda d: tg.ones(2, device=d) + tg.ones(2, dtype=tg.float64, device=d),
     tg.float64),
    ("f32 + 0-dim f64", lambda d: tg.ones(2, device=d) + tg.tensor(1.0, dtype=tg.float64,
                                                                     device=d), tg.float32),
    ("0-dim f64 + f32", lambda d: tg.tensor(1.0, dtype=tg.float64, device=d)
     + tg.ones(2, device=d), tg.float32),
    ("0-dim f32 + 0-dim f64", lambda d: tg.tensor(1.0, device=d)
     + tg.tensor(1.0, dtype=tg.float64, device=d), tg.float64),
    ("int + 0-dim f64", lambda d: _int([1, 2], d) + tg.tensor(1.0, dtype=tg.float64, device=d),
     tg.float64),
    ("int / int", lambda d: _int([1, 2], d) / _int([2, 2], d), tg.float32),
    ("int / 2", lambda d: _int([1, 2], d) / 2, tg.float32),
    ("exp(int)", lambda d: tg.exp(_int([1, 2], d)), tg.float32),
    ("sqrt(int)", lambda d: _int([1, 4], d).sqrt(), tg.float32),
    ("sigmoid(bool)", lambda d: tg.sigmoid(_int([1, 0], d) > 0), tg.float32),
    ("bool + bool", lambda d: (_int([1], d) > 0) + (_int([1], d) > 0), tg.bool),
    ("bool * 2", lambda d: (_int([1], d) > 0) * 2, tg.int64),
    ("bool * 2.0", lambda d: (_int([1], d) > 0) * 2.0, tg.float32),
    ("f32 < f64", lambda d: tg.ones(2, device=d) < tg.ones(2, dtype=tg.float64, device=d),
     tg.bool),
    ("int == 1", lambda d: _int([1, 2], d) == 1, tg.bool),
    ("maximum(int, f32)", lambda d: tg.maximum(_int([1, 2], d), tg.ones(2, device=d)),
     tg.float32),
    ("where(c, int, f64)", lambda d: tg.where(_int([1, 0], d) > 0, _int([1, 2], d),
                                              tg.ones(2, dtype=tg.float64, device=d)),
     tg.float64),
]


@pytest.mark.parametrize("name, make, expected", PROMOTIONS, ids=[p[0] for p in PROMOTIONS])
def test_dtype_promotion_follows_pytorch(name, make, expected, device):
    assert make(device).dtype == expected


def test_promoted_values(device):
    np.testing.assert_array_equal(host(_int([1, 3], device) / _int([2, 2], device)), [0.5, 1.5])
    np.testing.assert_array_equal(host(_int([1, 3], device) * 0.5), [0.5, 1.5])
    x = tg.tensor([1.0, 2.0], device=device) + tg.tensor(1e-10, dtype=tg.float64, device=device)
    np.testing.assert_array_equal(host(x), np.float32([1.0, 2.0]))


COMPARISONS = [
    (operator.eq, np.equal), (operator.ne, np.not_equal), (operator.lt, np.less),
    (operator.le, np.less_equal), (operator.gt, np.greater), (operator.ge, np.greater_equal),
]


@pytest.mark.parametrize("op, ref", COMPARISONS, ids=[c[0].__name__ for c in COMPARISONS])
def test_comparisons_give_bool_without_grad(op, ref, device, rng, leaf):
    a = tg.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], dtype=tg.float64, device=device,
                  requires_grad=True)
    b = tg.tensor([2.0, 2.0, 2.0], device=device)
    y = op(a, b)
    assert y.dtype == tg.bool
    assert not y.requires_grad
    np.testing.assert_array_equal(host(y), ref(host(a), host(b)))
    np.testing.assert_array_equal(host(op(a, 2)), ref(host(a), 2))


def test_predicates_and_logic(device):
    x = tg.tensor([-1.5, 0.0, np.inf, -np.inf, np.nan, 2.0], device=device)
    a = host(x)
    np.testing.assert_array_equal(host(tg.isnan(x)), np.isnan(a))
    np.testing.assert_array_equal(host(tg.isinf(x)), np.isinf(a))
    np.testing.assert_array_equal(host(tg.isfinite(x)), np.isfinite(a))
    np.testing.assert_array_equal(host(tg.sign(x)), np.sign(a))
    p, q = tg.tensor([True, True, False], device=device), tg.tensor([True, False, False],
                                                                     device=device)
    np.testing.assert_array_equal(host(p & q), [True, False, False])
    np.testing.assert_array_equal(host(p | q), [True, True, False])
    np.testing.assert_array_equal(host(~p), [False, False, True])
    n = tg.tensor([7, -7, 5], device=device)
    np.testing.assert_array_equal(host(n // 2), [3, -4, 2])
    np.testing.assert_array_equal(host(n % 3), [1, 2, 2])


SHAPE_ERRORS = [
    ("Add", operator.add), ("Sub", operator.sub), ("Mul", operator.mul),
    ("Div", operator.truediv), ("Pow", operator.pow), ("Maximum", tg.maximum),
    ("Minimum", tg.minimum), ("Where", lambda a, b: tg.where(a > 0, a, b)),
]


@pytest.mark.parametrize("name, op", SHAPE_ERRORS, ids=[e[0] for e in SHAPE_ERRORS])
def test_shape_mismatch_names_op_and_shapes(name, op, device):
    a, b = tg.ones(2, 3, device=device), tg.ones(4, device=device)
    with pytest.raises((ValueError, RuntimeError)) as info:
        op(a, b)
    message = str(info.value)
    assert name.lower() in message.lower()
    assert "(2, 3)" in message and "(4,)" in message


def _torch_pair(torch, values):
    values = np.array(values)      # from floats, tg.tensor(list) would round through float32
    return (tg.tensor(values, dtype=tg.float64, requires_grad=True),
            torch.tensor(values, dtype=torch.float64, requires_grad=True))


TIES = [0.0, 1.0, 2.0, -0.5, 0.5], [0.0, 2.0, 2.0, -0.5, 0.7]
TORCH_CASES = {   # name: (our function, PyTorch's, values of a, values of b)
    "maximum ties": (tg.maximum, "maximum", *TIES),
    "minimum ties": (tg.minimum, "minimum", *TIES),
    "clamp at bounds": (lambda a, b: a.clamp(-0.5, 0.5) * b, None, *TIES),
    "clamp tensor min ties": (lambda a, b: a.clamp(min=b), None, *TIES),
    "clamp tensor max ties": (lambda a, b: a.clamp(max=b), None, *TIES),
    "clamp tensor bounds ties": (lambda a, b: a.clamp(b, b + 0.25) * 3 + a.clamp(b - 0.25, b),
                                 None, *TIES),
    "pow at 0": (lambda a, b: a ** 2 + a ** 0 + a ** 1.5 * b, None,
                 [0.0, 1.0, 2.0, 0.5, 0.5], [0.0, 2.0, 2.0, -0.5, 0.7]),
    "pow tensor exponent": (lambda a, b: a ** b, None,
                            [0.0, 1.0, 2.0, 0.5, 0.5], [2.0, 2.0, -0.5, 0.7, 0.0]),
}


@pytest.mark.parametrize("case", list(TORCH_CASES))
def test_matches_torch_at_ties_bounds_and_zero(case):
    torch = pytest.importorskip("torch")
    ours, torch_name, a_values, b_values = TORCH_CASES[case]
    theirs = getattr(torch, torch_name) if torch_name else ours
    a, ta = _torch_pair(torch, a_values)
    b, tb = _torch_pair(torch, b_values)
    g = np.array([0.3, -1.2, 0.7, 2.0, -0.4])
    y, ty = ours(a, b), theirs(ta, tb)
    np.testing.assert_allclose(host(y), ty.detach().cpu().numpy(), rtol=1e-12)
    y.backward(tg.tensor(g, dtype=tg.float64))
    ty.backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(host(a.grad), ta.grad.cpu().numpy(), rtol=1e-12)
    np.testing.assert_allclose(host(b.grad), tb.grad.cpu().numpy(), rtol=1e-12)


def test_pow_tensor_exponent_zero_at_base_zero(device):
    x = tg.tensor([0.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    e = tg.tensor([0.0, 0.0], dtype=tg.float64, device=device, requires_grad=True)
    dx, de = tg.autograd.grad((x ** e).sum(), (x, e))
    np.testing.assert_array_equal(host(dx), [0.0, 0.0])         # d/dx x**0 = 0, as PyTorch
    np.testing.assert_allclose(host(de), [0.0, np.log(2.0)], rtol=1e-12)


def test_square_of_bool_is_int64(device):
    y = tg.square(tg.tensor([True, False], device=device))
    assert y.dtype == tg.int64 and host(y).tolist() == [1, 0]
    assert tg.square(tg.tensor([3], dtype=tg.int32, device=device)).dtype == tg.int32
