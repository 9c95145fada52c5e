"""The ``x.<op>_()`` methods made by tensor_methods._in_place: each equals its out-of-place op,
bumps the version counter, refuses a leaf that requires grad (PyTorch's message) and, on a
non-leaf, gives the gradients of the out-of-place op (first and second order)."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen import tensor_methods
from tinygen.autograd import gradcheck, gradgradcheck

OTHER = "other"             # stands for a second float64 tensor of shape (4,), values in (1.1, 1.9)

# name: (args, differentiable); the input is a (3, 4) float64 tensor with values in (0.2, 0.9)
FLOAT = {
    **{name: ((), True) for name in (
        "abs", "absolute", "neg", "negative", "reciprocal", "square", "relu", "exp", "exp2",
        "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "sigmoid", "logit", "sin",
        "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "atanh",
        "arcsin", "arccos", "arctan", "arcsinh", "arctanh", "deg2rad", "rad2deg", "erf",
        "erfc", "sinc", "frac", "nan_to_num", "tril", "triu")},
    **{name: ((), False) for name in (
        "sign", "sgn", "floor", "ceil", "round", "trunc", "fix", "logical_not")},
    **{name: ((OTHER,), True) for name in (
        "divide", "multiply", "subtract", "true_divide", "fmod", "remainder", "atan2",
        "arctan2", "hypot", "xlogy", "copysign", "ldexp")},
    **{name: ((OTHER,), False) for name in (
        "floor_divide", "heaviside", "nextafter", "eq", "ne", "lt", "le", "gt", "ge",
        "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
        "logical_or", "logical_xor")},
    "clip": ((0.4, 0.6), True),
    "clamp_min": ((0.5,), True),
    "clamp_max": ((0.5,), True),
    "lerp": ((OTHER, 0.3), True),
    "cumsum": ((1,), True),
    "cumprod": ((1,), True),
}
# ops of integer tensors: (args,), with the input a (3, 4) int64 tensor
INTEGER = {"bitwise_not": (), "bitwise_and": (OTHER,), "bitwise_or": (OTHER,),
           "bitwise_xor": (OTHER,), "gcd": (OTHER,), "lcm": (OTHER,)}
ACOSH = {"acosh", "arccosh"}                             # inputs >= 1: a test of their own


def _inputs(rng, device, dtype=tg.float64):
    if dtype == tg.int64:
        x, other = rng.integers(-9, 9, (3, 4)), rng.integers(1, 9, 4)
    else:
        x = rng.uniform(0.2, 0.9, (3, 4))
        x[np.abs(x - 0.5) < 0.05] = 0.45                   # off the clamp kinks
        other = rng.uniform(1.1, 1.9, 4)
    return (tg.tensor(x, dtype=dtype, device=device), tg.tensor(other, dtype=dtype,
                                                                 device=device))


def _args(args, other):
    return tuple(other if a is OTHER else a for a in args)


def test_methods_exist():
    assert set(FLOAT) | set(INTEGER) | ACOSH <= set(tensor_methods._IN_PLACE_METHODS)


@pytest.mark.parametrize("name", sorted(FLOAT) + sorted(INTEGER))
def test_equals_out_of_place_and_bumps_version(name, device, rng):
    dtype = tg.int64 if name in INTEGER else tg.float64
    args = FLOAT[name][0] if name in FLOAT else INTEGER[name]
    x, other = _inputs(rng, device, dtype)
    args = _args(args, other)
    expected = getattr(tg.ops, name)(x, *args).to(dtype)
    version = x._version
    assert getattr(x, f"{name}_")(*args) is x
    assert x._version == version + 1
    assert x.dtype == dtype
    np.testing.assert_array_equal(host(x), host(expected))


def test_acosh_in_place(device):
    x = tg.tensor([1.5, 3.0], device=device)
    expected = tg.acosh(x)
    x.acosh_()
    x_alias = tg.tensor([1.5, 3.0], device=device).arccosh_()
    np.testing.assert_array_equal(host(x), host(expected))
    np.testing.assert_array_equal(host(x_alias), host(expected))


def test_view_sees_the_change(device):
    x = tg.tensor([[0.1, 0.2], [0.3, 0.4]], device=device)
    row = x[1]
    row.exp_()
    np.testing.assert_allclose(host(x), [[0.1, 0.2], np.exp([0.3, 0.4])])


@pytest.mark.parametrize("name", sorted(FLOAT))
def test_refuses_a_leaf_that_requires_grad(name, rng):
    x, other = _inputs(rng, "cpu")
    x.requires_grad_()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation"):
        getattr(x, f"{name}_")(*_args(FLOAT[name][0], other))


def test_float_result_into_integer_tensor_is_refused():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        tg.tensor([1, 2]).exp_()
    with pytest.raises(RuntimeError, match="can't be cast"):
        tg.tensor([0, 1]).asin_()


@pytest.mark.parametrize("name", sorted(n for n, (_, grad) in FLOAT.items() if grad))
def test_gradients_through_a_non_leaf(name, device, rng):
    x, other = _inputs(rng, device)
    x.requires_grad_()
    other.requires_grad_()
    args = FLOAT[name][0]

    def fn(x, other):
        y = x * 1
        return getattr(y, f"{name}_")(*_args(args, other))

    inputs = (x, other) if OTHER in args else (x,)
    f = fn if OTHER in args else (lambda x: fn(x, other.detach()))
    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    for name in set(FLOAT) | set(INTEGER) | ACOSH:
        assert hasattr(torch.Tensor, f"{name}_"), name
    values = np.array([[0.3, 0.6], [0.8, 0.25]])
    for name in ("tan_", "atanh_", "erfc_", "logit_", "sigmoid_", "deg2rad_"):
        x, t = tg.tensor(values).mul(1), torch.tensor(values).mul(1)
        getattr(x, name)()
        getattr(t, name)()
        np.testing.assert_allclose(host(x), t.numpy(), rtol=1e-12, err_msg=name)
