"""copysign, ldexp, fmax, fmin, hardshrink, softshrink: values against NumPy, gradients against
finite differences, and PyTorch's dtypes, NaN handling and gradient routing."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

NAN = float("nan")

BINARY = [
    ("copysign", np.copysign),
    ("ldexp", lambda a, b: a * 2.0 ** b),
    ("fmax", np.fmax),
    ("fmin", np.fmin),
]


@pytest.mark.parametrize("name, ref", BINARY, ids=[c[0] for c in BINARY])
def test_binary_values_and_gradients(name, ref, device, rng, leaf):
    a = leaf(rng, 3, 4, device=device, low=-2, high=2, away_from=(0,))
    b = leaf(rng, 4, device=device, low=-2, high=2, away_from=(0,))       # broadcast
    fn = getattr(tg, name)
    np.testing.assert_allclose(host(fn(a, b)), ref(host(a), host(b)), rtol=1e-12)
    np.testing.assert_allclose(host(getattr(a, name)(b)), ref(host(a), host(b)), rtol=1e-12)
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))


@pytest.mark.parametrize("name", ["hardshrink", "softshrink"])
def test_shrink_gradients(name, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device, low=-2, high=2, away_from=(-0.5, 0.5))
    fn = getattr(tg.ops, name)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_shrink_values():
    x = tg.tensor([-1.0, -0.5, -0.2, 0.0, 0.3, 0.5, 2.0])
    np.testing.assert_allclose(host(tg.hardshrink(x)), [-1, 0, 0, 0, 0, 0, 2])
    np.testing.assert_allclose(host(x.hardshrink(0.25)), [-1, -0.5, 0, 0, 0.3, 0.5, 2])
    np.testing.assert_allclose(host(tg.ops.softshrink(x)), [-0.5, 0, 0, 0, 0, 0, 1.5])
    with pytest.raises(RuntimeError, match="greater or equal to 0"):
        tg.ops.softshrink(x, -1.0)


def test_fmax_fmin_ignore_nan_and_route_gradients():
    a = tg.tensor([NAN, 1.0, NAN, 2.0], requires_grad=True)
    b = tg.tensor([3.0, NAN, NAN, 2.0], requires_grad=True)
    y = tg.fmax(a, b)
    np.testing.assert_equal(host(y), [3, 1, NAN, 2])
    np.testing.assert_equal(host(tg.fmin(a, b)), [3, 1, NAN, 2])
    y.sum().backward()
    np.testing.assert_equal(host(a.grad), [0, 1, 1, 1])      # ties and NaN-NaN go to input
    np.testing.assert_equal(host(b.grad), [1, 0, 0, 0])


def test_copysign_signs_and_gradient_at_zero():
    a = tg.tensor([0.0, 2.0, -3.0], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([-1.0, -0.0, 4.0], dtype=tg.float64, requires_grad=True)
    y = tg.copysign(a, b)
    np.testing.assert_equal(host(y), [-0.0, -2.0, 3.0])
    assert np.signbit(host(y)[0])
    y.sum().backward()
    np.testing.assert_equal(host(a.grad), [0, -1, -1])
    np.testing.assert_equal(host(b.grad), [0, 0, 0])


def test_dtypes():
    ints = tg.tensor([1, 2, 3])
    assert tg.copysign(ints, -1).dtype == tg.float32
    assert tg.ldexp(ints, ints).dtype == tg.float32
    assert tg.fmax(ints, ints).dtype == tg.int64
    assert tg.fmax(ints, tg.tensor([1.5, 0, 0])).dtype == tg.float32
    np.testing.assert_equal(host(tg.ldexp(tg.tensor([1.5]), tg.tensor([3]))), [12.0])


def test_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.array([NAN, 1.0, -2.0, 0.0, 0.7], dtype=np.float32)
    b = np.array([3.0, NAN, -2.0, -1.0, 0.2], dtype=np.float32)
    for name in ("copysign", "ldexp", "fmax", "fmin"):
        x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
        tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out, t_out = getattr(tg, name)(x, y), getattr(torch, name)(tx, ty)
        np.testing.assert_allclose(host(out), t_out.detach().numpy(), rtol=1e-6, err_msg=name)
        out.backward(tg.ones_like(out))
        t_out.backward(torch.ones_like(t_out))
        for mine, theirs in ((x, tx), (y, ty)):
            np.testing.assert_allclose(host(mine.grad), theirs.grad.numpy(), rtol=1e-6,
                                       err_msg=name)
    values = np.array([-1.0, -0.4, 0.1, 0.6], dtype=np.float32)
    np.testing.assert_allclose(host(tg.hardshrink(tg.tensor(values), 0.5)),
                               torch.hardshrink(torch.tensor(values), 0.5).numpy())
    np.testing.assert_allclose(host(tg.ops.softshrink(tg.tensor(values), 0.5)),
                               torch.nn.functional.softshrink(torch.tensor(values), 0.5).numpy())
