"""elu, selu, celu, softplus, logsigmoid, mish, hardtanh, relu6, threshold, hardsigmoid,
hardswish, softsign, tanhshrink, prelu, glu and softmin: values against NumPy formulas, first and
second derivatives (near but off the kinks), finiteness at +-1e4, in-place forms, bad arguments,
and a table against PyTorch."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def elu_np(a, alpha=1.0):
    return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))


def softplus_np(a, beta=1.0, threshold=20.0):
    return np.where(beta * a > threshold, a, np.logaddexp(0, beta * a) / beta)


def relu6_np(a):
    return np.clip(a, 0, 6)


# name, function, NumPy reference, kinks to keep gradcheck inputs away from
POINTWISE = [
    ("elu", F.elu, elu_np, (0,)),
    ("elu_alpha", lambda x: F.elu(x, 0.5), lambda a: elu_np(a, 0.5), (0,)),
    ("selu", F.selu, lambda a: SELU_SCALE * elu_np(a, SELU_ALPHA), (0,)),
    ("celu", lambda x: F.celu(x, 2.0), lambda a: 2.0 * elu_np(a / 2.0), (0,)),
    ("softplus", F.softplus, softplus_np, ()),
    ("softplus_beta", lambda x: F.softplus(x, 2.0, 3.0), lambda a: softplus_np(a, 2.0, 3.0),
     (1.5,)),
    ("logsigmoid", F.logsigmoid, lambda a: -np.logaddexp(0, -a), ()),
    ("mish", F.mish, lambda a: a * np.tanh(np.logaddexp(0, a)), ()),
    ("hardtanh", F.hardtanh, lambda a: np.clip(a, -1, 1), (-1, 1)),
    ("hardtanh_range", lambda x: F.hardtanh(x, -2.0, 0.5), lambda a: np.clip(a, -2, 0.5),
     (-2, 0.5)),
    ("relu6", F.relu6, relu6_np, (0, 6)),
    ("threshold", lambda x: F.threshold(x, 0.5, -2.0), lambda a: np.where(a > 0.5, a, -2.0),
     (0.5,)),
    ("hardsigmoid", F.hardsigmoid, lambda a: relu6_np(a + 3) / 6, (-3, 3)),
    ("hardswish", F.hardswish, lambda a: a * relu6_np(a + 3) / 6, (-3, 3)),
    ("softsign", F.softsign, lambda a: a / (1 + np.abs(a)), (0,)),
    ("tanhshrink", F.tanhshrink, lambda a: a - np.tanh(a), ()),
]
IDS = [p[0] for p in POINTWISE]
INPLACE = [F.elu, F.selu, F.celu, F.mish, F.hardtanh, F.relu6, F.hardsigmoid, F.hardswish,
           lambda x, inplace: F.threshold(x, 0.1, 3.0, inplace)]


@pytest.mark.parametrize("name, fn, ref, kinks", POINTWISE, ids=IDS)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_values(name, fn, ref, kinks, dtype, device, rng):
    a = rng.uniform(-8, 8, size=(4, 9)).astype(dtype)
    y = fn(tg.tensor(a, device=device))
    assert y.dtype == dtype and y.shape == a.shape
    np.testing.assert_allclose(host(y), ref(a.astype(np.float64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, fn, ref, kinks", POINTWISE, ids=IDS)
def test_gradients(name, fn, ref, kinks, device, rng, leaf):
    """Inputs span every piece, 0.1 from each kink."""
    x = leaf(rng, 5, 6, device=device, low=-5, high=7, away_from=kinks)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name, fn, ref, kinks", POINTWISE, ids=IDS)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_extreme_inputs_stay_finite(name, fn, ref, kinks, dtype):
    x = tg.tensor([-1e4, -100.0, 100.0, 1e4], dtype=dtype, requires_grad=True)
    y = fn(x)
    (g,) = tg.autograd.grad(y.sum(), [x])
    assert np.isfinite(host(y)).all() and np.isfinite(host(g)).all()
    expected = ref(np.array([-1e4, -100.0, 100.0, 1e4]))
    np.testing.assert_allclose(host(y), expected, rtol=1e-6, atol=1e-30)


def test_softplus_switches_to_identity_past_threshold():
    x = tg.tensor([19.0, 21.0], dtype=tg.float64, requires_grad=True)
    y = F.softplus(x)
    y.sum().backward()
    assert host(y)[1] == 21.0 and host(y)[0] == pytest.approx(math.log1p(math.exp(19.0)))
    np.testing.assert_allclose(host(x.grad), [1 / (1 + math.exp(-19.0)), 1.0])


def test_piecewise_linear_gradient_is_zero_on_the_kinks():
    """As PyTorch's hardtanh_backward: the bounds themselves get gradient 0."""
    x = tg.tensor([0.0, 6.0, -3.0, 3.0], dtype=tg.float64, requires_grad=True)
    (g6,) = tg.autograd.grad(F.relu6(x).sum(), [x])
    (gs,) = tg.autograd.grad(F.hardsigmoid(x).sum(), [x])
    np.testing.assert_array_equal(host(g6), [0, 0, 0, 1])
    np.testing.assert_array_equal(host(gs), [1 / 6, 0, 0, 0])


@pytest.mark.parametrize("fn", INPLACE)
def test_inplace_matches_out_of_place(fn, rng):
    a = rng.uniform(-5, 5, (4, 3))
    x = tg.tensor(a, requires_grad=True)
    expected = fn(x * 1, inplace=False)
    (g_expected,) = tg.autograd.grad(expected.sum(), [x])
    y = x * 1
    out = fn(y, inplace=True)
    assert out is y
    np.testing.assert_allclose(host(y), host(expected), rtol=1e-12)
    (g,) = tg.autograd.grad(out.sum(), [x])
    np.testing.assert_allclose(host(g), host(g_expected), rtol=1e-12)


@pytest.mark.parametrize("shape, weight_shape", [((4, 3), (3,)), ((2, 3, 5), (3,)),
                                                 ((4, 3), (1,)), ((5,), (1,)), ((), ())])
def test_prelu(shape, weight_shape, rng, leaf):
    x = leaf(rng, *shape, low=-2, high=2, away_from=(0,))
    w = leaf(rng, *weight_shape, low=0.05, high=0.5)
    y = F.prelu(x, w)
    a, slope = host(x), host(w)
    slope = slope.reshape(slope.shape + (1,) * (len(shape) - 2)) if slope.size > 1 else slope
    np.testing.assert_allclose(host(y), np.where(a > 0, a, slope * a).reshape(shape))
    assert gradcheck(F.prelu, (x, w))
    assert gradgradcheck(F.prelu, (x, w))


def test_prelu_errors():
    with pytest.raises(RuntimeError, match="channel size = 3"):
        F.prelu(tg.ones(4, 3), tg.ones(2))
    with pytest.raises(RuntimeError, match="scalar or 1D"):
        F.prelu(tg.ones(4, 3), tg.ones(3, 1))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu(dim, rng, leaf):
    x = leaf(rng, 4, 6, low=-3, high=3)
    a, b = np.split(host(x), 2, axis=dim)
    np.testing.assert_allclose(host(F.glu(x, dim)), a / (1 + np.exp(-b)), rtol=1e-12)
    assert gradcheck(lambda x: F.glu(x, dim), (x,))
    assert gradgradcheck(lambda x: F.glu(x, dim), (x,))


def test_glu_errors():
    with pytest.raises(RuntimeError, match="dimension 1 is size 5"):
        F.glu(tg.ones(4, 5))
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(tg.tensor(1.0))


def test_softmin(rng, leaf):
    x = leaf(rng, 3, 5, low=-3, high=3)
    e = np.exp(-host(x))
    np.testing.assert_allclose(host(F.softmin(x, dim=1)), e / e.sum(1, keepdims=True))
    assert gradcheck(lambda x: F.softmin(x, 1), (x,))
    assert gradgradcheck(lambda x: F.softmin(x, 1), (x,))
    with pytest.raises(ValueError, match="dim"):
        F.softmin(x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(tg.ones(2), 1.0, -1.0)
    with pytest.raises(ValueError, match="alpha"):
        F.celu(tg.ones(2), 0.0)


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    a = rng.uniform(-8, 8, (6, 4)).astype(np.float32)
    a[0, :] = [-1e4, -25.0, 25.0, 1e4]
    w = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    cases = [("elu", {"alpha": 0.7}), ("selu", {}), ("celu", {"alpha": 1.5}), ("softplus", {}),
             ("softplus", {"beta": 2.0, "threshold": 5.0}), ("logsigmoid", {}), ("mish", {}),
             ("hardtanh", {"min_val": -2.0, "max_val": 3.0}), ("relu6", {}),
             ("threshold", {"threshold": 0.5, "value": -1.0}), ("hardsigmoid", {}),
             ("hardswish", {}), ("softsign", {}), ("tanhshrink", {}), ("glu", {"dim": 1}),
             ("softmin", {"dim": 1})]
    g = rng.standard_normal((6, 4)).astype(np.float32)
    for name, kwargs in cases + [("prelu", {})]:
        x, t = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        extra = ((tg.tensor(w),), (torch.tensor(w),)) if name == "prelu" else ((), ())
        y, ty = getattr(F, name)(x, *extra[0], **kwargs), getattr(tf, name)(t, *extra[1],
                                                                              **kwargs)
        gy = g[:, :y.shape[1]]
        y.backward(tg.tensor(gy))
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=name)
        np.testing.assert_allclose(host(x.grad), t.grad.numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=name)


def test_integer_inputs_keep_their_dtype_with_truncated_bounds():
    # PyTorch clamps integer tensors in their own dtype, its float arguments truncated to ints
    x = tg.arange(-3, 4)
    for y, expected in [(F.hardtanh(x, -1.5, 2.5), [-1, -1, -1, 0, 1, 2, 2]),
                        (F.relu6(x * 3), [0, 0, 0, 0, 3, 6, 6]),
                        (F.threshold(x, -1.5, 9), [9, 9, 9, 0, 1, 2, 3]),
                        (F.threshold(x, 0.5, 2.7), [2, 2, 2, 2, 1, 2, 3])]:
        assert y.dtype == tg.int64
        np.testing.assert_array_equal(host(y), expected)
    F.relu6(x, inplace=True)
    np.testing.assert_array_equal(host(x), [0, 0, 0, 0, 1, 2, 3])


def test_silu_of_complex_input():
    z = np.array([0.5 + 1j, -2 - 0.3j, 0j])
    np.testing.assert_allclose(host(F.silu(tg.tensor(z))), z / (1 + np.exp(-z)), rtol=1e-12)


@pytest.mark.parametrize("name, slope", [("hardtanh", 1.0), ("relu6", 1.0), ("elu", 1.0),
                                         ("celu", 1.0), ("selu", SELU_SCALE),
                                         ("hardswish", 1.0), ("hardsigmoid", 0.0)])
def test_gradient_at_nan_follows_pytorch_formulas(name, slope):
    # PyTorch's backward formulas test "x <= lo" (not "x > lo"), so nan takes the upper branch;
    # hardsigmoid's tests "-3 < x < 3", so nan gets 0
    x = tg.tensor([float("nan"), 0.5], dtype=tg.float64, requires_grad=True)
    y = getattr(F, name)(x)
    assert np.isnan(host(y)[0])
    y.sum().backward()
    assert host(x.grad)[0] == slope
