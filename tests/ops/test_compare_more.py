"""signbit, isposinf, isneginf, isreal, isin, gcd, lcm, nextafter: values against NumPy and
PyTorch's dtypes and errors (only nextafter has a gradient: 1 for input, 0 for other)."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host

INF, NAN = float("inf"), float("nan")


def test_sign_and_infinity_tests(device):
    values = np.array([-INF, -1.0, -0.0, 0.0, 2.0, INF, NAN], dtype=np.float32)
    x = tg.tensor(values, device=device)
    for name, ref in (("signbit", np.signbit), ("isposinf", np.isposinf),
                      ("isneginf", np.isneginf)):
        y = getattr(x, name)()
        assert y.dtype == tg.bool
        np.testing.assert_equal(host(y), ref(values), err_msg=name)
    np.testing.assert_equal(host(tg.isreal(x)), np.ones(7, dtype=bool))
    np.testing.assert_equal(host(tg.signbit(tg.tensor([-3, 0, 4], device=device))),
                            [True, False, False])


def test_isreal_of_complex_looks_at_the_imaginary_part(device):
    z = tg.tensor(np.array([1 + 0j, 2 - 1j, -0.0 + 0j, 1e-300j]), device=device)
    np.testing.assert_equal(host(tg.isreal(z)), [True, False, True, False])


def test_nextafter_gradient_is_one_for_input_zero_for_other(device):
    x = tg.tensor([1.0, 0.0, -2.0], dtype=tg.float64, device=device, requires_grad=True)
    other = tg.tensor([2.0, -1.0, 5.0], dtype=tg.float64, device=device, requires_grad=True)
    weight = tg.tensor([3.0, -1.0, 0.5], dtype=tg.float64, device=device)
    gx, go = tg.autograd.grad((tg.nextafter(x, other) * weight).sum(), [x, other])
    np.testing.assert_equal(host(gx), host(weight))
    np.testing.assert_equal(host(go), [0.0, 0.0, 0.0])
    assert tg.nextafter(x, 0.0).requires_grad


def test_isin(device):
    elements = tg.tensor([[1, 2], [3, 4]], device=device)
    tests = tg.tensor([4, 1, 9], device=device)
    np.testing.assert_equal(host(tg.isin(elements, tests)), [[True, False], [False, True]])
    np.testing.assert_equal(host(tg.isin(elements, tests, invert=True)),
                            [[False, True], [True, False]])
    np.testing.assert_equal(host(tg.isin(elements, 3)), [[False, False], [True, False]])
    assert tg.isin(4, tests).item() is True


def test_gcd_lcm(device):
    a = tg.tensor([12, -18, 0, 7], device=device)
    b = tg.tensor([8, 12, 5, 0], device=device)
    np.testing.assert_equal(host(tg.gcd(a, b)), np.gcd(host(a), host(b)))
    np.testing.assert_equal(host(a.lcm(b)), np.lcm(host(a), host(b)))
    assert tg.gcd(a, 4).dtype == tg.int64
    with pytest.raises(TypeError, match="integer"):
        tg.gcd(a.float(), b)


def test_nextafter(device):
    x = tg.tensor([1.0, 0.0, -2.0], device=device)
    np.testing.assert_equal(host(tg.nextafter(x, 2.0)), np.nextafter(host(x), np.float32(2)))
    np.testing.assert_equal(host(x.nextafter(tg.zeros(3, device=device))),
                            np.nextafter(host(x), np.float32(0)))
    assert tg.nextafter(x.double(), x.double()).dtype == tg.float64
    with pytest.raises(RuntimeError, match="floating point"):
        tg.nextafter(tg.tensor([1]), 2)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.array([-INF, -1.0, -0.0, 0.0, 2.0, INF, NAN], dtype=np.float32)
    x, t = tg.tensor(values), torch.tensor(values)
    for name in ("signbit", "isposinf", "isneginf", "isreal"):
        np.testing.assert_equal(host(getattr(tg, name)(x)), getattr(torch, name)(t).numpy(),
                                err_msg=name)
    np.testing.assert_equal(host(tg.nextafter(x, 1.0)),
                            torch.nextafter(t, torch.tensor(1.0)).numpy())
    a, b = np.array([12, -18, 0, 7]), np.array([8, 12, 5, 0])
    for name in ("gcd", "lcm"):
        np.testing.assert_equal(host(getattr(tg, name)(tg.tensor(a), tg.tensor(b))),
                                getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())
    np.testing.assert_equal(host(tg.isin(tg.tensor(a), tg.tensor(b), invert=True)),
                            torch.isin(torch.tensor(a), torch.tensor(b), invert=True).numpy())
