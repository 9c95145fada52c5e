"""tg.special and lgamma, digamma, polygamma, erfinv, i0, mvlgamma: closed forms, PyTorch's
values (poles included) in float32 and float64, and gradients against finite differences."""

import math

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck

EULER = 0.57721566490153286061


def t64(values, requires_grad=False):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def close(t, expected, rtol=1e-12, atol=0.0):
    np.testing.assert_allclose(t.detach().numpy(), expected, rtol=rtol, atol=atol)


def test_gamma_family_closed_forms():
    n = np.arange(1.0, 12.0)
    close(tg.lgamma(t64(n)), [math.log(math.factorial(int(k) - 1)) for k in n], atol=1e-15)
    close(tg.lgamma(t64([0.5])), [0.5 * math.log(math.pi)])
    close(tg.digamma(t64([1.0])), [-EULER])
    close(tg.digamma(t64(n + 1)), tg.digamma(t64(n)).numpy() + 1 / n)
    close(tg.digamma(t64([0.5])), [-EULER - 2 * math.log(2)])
    close(tg.polygamma(1, t64([1.0, 0.5])), [math.pi ** 2 / 6, math.pi ** 2 / 2])
    close(tg.polygamma(0, t64([3.0])), tg.digamma(t64([3.0])).numpy())
    close(tg.special.zeta(t64([2.0, 4.0]), t64([1.0, 1.0])), [math.pi ** 2 / 6, math.pi ** 4 / 90])
    zeta3 = 1.2020569031595942854
    close(tg.polygamma(2, t64([1.0])), [-2 * zeta3])
    # reflection: digamma(1 - x) - digamma(x) = pi / tan(pi x)
    x = np.array([-3.3, -0.7, 0.25, 0.6])
    close(tg.digamma(t64(1 - x)) - tg.digamma(t64(x)), math.pi / np.tan(math.pi * x))
    p = 3
    x = np.array([2.5, 4.0])
    expected = p * (p - 1) / 4 * math.log(math.pi) + sum(
        np.array([math.lgamma(v - j / 2) for v in x]) for j in range(p))
    close(tg.mvlgamma(t64(x), p), expected)
    close(tg.special.multigammaln(t64(x), 1), [math.lgamma(v) for v in x])


def test_erf_family_and_bessel_closed_forms():
    x = np.linspace(-2.5, 2.5, 11)
    close(tg.erfinv(tg.erf(t64(x))), x, atol=1e-12)
    close(tg.erfinv(t64([-1.0, 1.0, 0.0])), [-np.inf, np.inf, 0.0])
    assert np.isnan(tg.erfinv(t64([1.5])).numpy()).all()
    close(tg.special.ndtr(t64([0.0, 1.0])), [0.5, 0.5 * (1 + math.erf(1 / math.sqrt(2)))])
    p = np.array([1e-300, 1e-20, 1e-3, 0.3, 0.5, 0.9, 0.999999])
    close(tg.special.ndtr(tg.special.ndtri(t64(p))), p, rtol=1e-11)
    close(tg.special.log_ndtr(t64([-40.0, 0.0, 3.0])),
          [-804.6084420137538, math.log(0.5), math.log(0.5 * math.erfc(-3 / math.sqrt(2)))])
    close(tg.i0(t64([0.0])), [1.0])
    close(tg.special.i1(t64([0.0])), [0.0])
    # I0(x) = sum (x/2)**(2k) / (k!)**2, I1(x) = sum (x/2)**(2k+1) / (k! (k+1)!)
    x = np.array([-3.0, 0.7, 9.0])
    k = np.arange(40)[:, None]
    fact = np.array([math.factorial(int(i)) for i in k[:, 0]], dtype=float)[:, None]
    i0 = ((x / 2) ** (2 * k) / fact ** 2).sum(0)
    i1 = ((x / 2) ** (2 * k + 1) / (fact * fact * (k + 1))).sum(0)
    close(tg.i0(t64(x)), i0)
    close(tg.special.i1(t64(x)), i1)
    close(tg.special.i0e(t64(x)), i0 * np.exp(-np.abs(x)))
    close(tg.special.i1e(t64(x)), i1 * np.exp(-np.abs(x)))
    close(tg.special.entr(t64([-1.0, 0.0, 0.5])), [-np.inf, 0.0, 0.5 * math.log(2)])
    close(tg.special.xlog1py(t64([0.0, 2.0]), t64([-1.0, 1.0])), [0.0, 2 * math.log(2)])


def test_poles_and_dtypes():
    x = t64([0.0, -0.0, -1.0, -2.0])
    close(tg.lgamma(x), [np.inf] * 4)
    close(tg.digamma(x), [-np.inf, np.inf, np.nan, np.nan])
    close(tg.polygamma(2, t64([0.0])), [-np.inf])
    close(tg.special.zeta(t64([1.0, 0.5]), t64([1.0, 1.0])), [np.inf, np.nan])
    ints = tg.tensor([1, 2, 3])
    for fn in (tg.lgamma, tg.digamma, tg.erfinv, tg.i0, lambda t: tg.polygamma(1, t)):
        assert fn(ints).dtype == tg.float32
        assert fn(ints.float()).dtype == tg.float32
    with pytest.raises(RuntimeError, match="negative n"):
        tg.polygamma(-1, t64([1.0]))
    # below the domain x > (p-1)/2 PyTorch 2.x returns lgamma's values (inf at a pole)
    close(tg.mvlgamma(t64([0.5]), 3), [np.inf])
    with pytest.raises(RuntimeError, match="greater than or equal to 1"):
        tg.mvlgamma(t64([2.0]), 0)


def test_methods_and_in_place():
    x = t64([0.5, 2.5])
    close(x.lgamma(), tg.lgamma(x).numpy())
    close(x.polygamma(2), tg.polygamma(2, x).numpy())
    close((x + 1).mvlgamma(2), tg.mvlgamma(x + 1, 2).numpy())
    for name in ("lgamma", "digamma", "i0"):
        y = x.clone()
        assert getattr(y, f"{name}_")() is y
        close(y, getattr(tg, name)(x).numpy())
    y = t64([0.3]).clone()
    y.erfinv_()
    close(y, tg.erfinv(t64([0.3])).numpy())
    y = x.clone()
    y.polygamma_(1)
    close(y, tg.polygamma(1, x).numpy())
    leaf = t64([0.7, 1.9], requires_grad=True)
    z = leaf * 1
    z.digamma_()
    z.sum().backward()
    close(leaf.grad, tg.polygamma(1, leaf.detach()).numpy())
    assert tg.special.expit is tg.sigmoid and tg.special.psi is tg.digamma
    assert tg.special.gammaln(x).numpy().tolist() == tg.lgamma(x).numpy().tolist()


GRADS = [  # name, function, inputs in float64, second derivative checked
    ("lgamma", tg.lgamma, [0.3, 2.7, -1.5], True),
    ("digamma", tg.digamma, [0.3, 2.7, -1.5], True),
    ("polygamma2", lambda t: tg.polygamma(2, t), [0.3, 2.7, -1.5], True),
    ("mvlgamma", lambda t: tg.mvlgamma(t, 3), [1.3, 2.7], True),
    ("erfinv", tg.erfinv, [-0.8, 0.1, 0.6], True),
    ("i0", tg.i0, [-2.0, 0.5, 9.0], True),
    ("i0e", tg.special.i0e, [-2.0, 0.5, 9.0], True),
    ("i1", tg.special.i1, [-2.0, 0.0, 9.0], False),
    ("i1e", tg.special.i1e, [-2.0, 0.0, 9.0], False),
    ("i1_away", tg.special.i1, [-2.0, 0.4, 9.0], True),
    ("entr", tg.special.entr, [0.2, 1.5], True),
    ("ndtr", tg.special.ndtr, [-2.0, 0.3], True),
    ("ndtri", tg.special.ndtri, [0.01, 0.5, 0.9], True),
    ("log_ndtr", tg.special.log_ndtr, [-30.0, -3.0, 0.5], True),
]


@pytest.mark.parametrize("name, fn, values, second", GRADS, ids=[g[0] for g in GRADS])
def test_gradients(name, fn, values, second):
    x = t64(values, requires_grad=True)
    assert gradcheck(fn, (x,))
    if second:
        assert gradgradcheck(fn, (x,))


def test_binary_gradients():
    a, b = t64([0.5, 2.0], True), t64([0.3, 1.5], True)
    assert gradcheck(tg.special.xlog1py, (a, b))
    assert gradgradcheck(tg.special.xlog1py, (a, b))
    s, q = t64([2.5, 4.0]), t64([0.7, 3.0], True)
    assert gradcheck(tg.special.zeta, (s, q))
    y = tg.special.zeta(s.requires_grad_(), q)
    with pytest.raises(RuntimeError, match="zeta"):
        y.sum().backward()


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = np.array([-7.3, -2.5, -0.5, 0.0, -0.0, -1.0, 1e-6, 0.5, 1.0, 3.3, 9.99, 10.0, 25.0, 1e5,
                  np.inf, np.nan])
    y = np.array([-1.0, -0.99, -0.5, 0.0, 1e-8, 0.3, 0.7, 0.9999, 1.0, 1.2])
    p = np.array([0.0, 1e-300, 1e-18, 1e-3, 0.2, 0.5, 0.95, 1.0, -0.5])
    cases = [(tg.lgamma, torch.lgamma, x), (tg.digamma, torch.digamma, x),
             (tg.erfinv, torch.erfinv, y), (tg.special.ndtri, torch.special.ndtri, p),
             (tg.special.log_ndtr, torch.special.log_ndtr, np.r_[x, -45.0, -1e3, -19.0]),
             (tg.special.entr, torch.special.entr, x)]
    for name in ("i0", "i0e", "i1", "i1e"):
        cases.append((getattr(tg.special, name), getattr(torch.special, name), x[:-2]))
    for n in (1, 2, 3, 6):
        cases.append((lambda t, n=n: tg.polygamma(n, t), lambda t, n=n: torch.polygamma(n, t),
                      x[np.isfinite(x) & ((x > 0) | (x != np.floor(x)))]))
    for ours, theirs, values in cases:
        # PyTorch's trigamma (polygamma n = 1) is a shorter series, good to about 1e-9 only:
        # ours matches pi**2 / 6 exactly (test_gamma_family_closed_forms)
        rtol64 = 1e-9 if theirs is cases[10][1] else 1e-12
        for dtype, rtol in ((np.float64, rtol64), (np.float32, 2e-5)):
            got = ours(tg.tensor(values.astype(dtype))).numpy()
            want = theirs(torch.tensor(values.astype(dtype))).numpy()
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300)
    s = np.array([1.0, 2.0, 0.5, 3.0, 2.0, 4.5, 30.0, 2.0])
    q = np.array([1.0, 0.0, 1.0, -1.0, -1.5, 0.3, 2.0, 1e4])
    np.testing.assert_allclose(tg.special.zeta(t64(s), t64(q)).numpy(),
                               torch.special.zeta(torch.tensor(s), torch.tensor(q)).numpy(),
                               rtol=1e-12)
    xv = np.array([0.0, 0.0, 2.0, -1.0])
    yv = np.array([-1.0, np.nan, 1.0, 0.5])
    np.testing.assert_allclose(tg.special.xlog1py(t64(xv), t64(yv)).numpy(),
                               torch.special.xlog1py(torch.tensor(xv), torch.tensor(yv)).numpy())
    a = torch.tensor([1.3, 2.2], dtype=torch.float64, requires_grad=True)
    torch.mvlgamma(a, 2).sum().backward()
    ours = t64([1.3, 2.2], True)
    tg.mvlgamma(ours, 2).sum().backward()
    close(ours.grad, a.grad.numpy())


def test_zero_dim_inputs_of_array_kernels():
    """erfinv and log_ndtr run libm's erf on 0-d arrays too (0-d math yields NumPy scalars)."""
    close(tg.special.erfinv(t64(0.5)), 0.4769362762044699, rtol=1e-12)     # erfinv(1/2)
    close(tg.special.log_ndtr(t64(-3.0)), math.log(0.5 * math.erfc(3 / math.sqrt(2))))
    assert tg.special.erfinv(t64(0.5)).shape == ()
    assert tg.special.ndtr(tg.tensor(0.0)).shape == ()


def test_xlog1py_gradient_at_zero_input_is_log1p():
    """d/dx x log1p(y) = log1p(y) at x = 0 too (PyTorch's derivative), not 0."""
    x, y = t64([0.0, 0.0, 2.0], True), t64([0.5, 3.0, 1.0], True)
    gx, gy = tg.autograd.grad(tg.special.xlog1py(x, y).sum(), [x, y])
    close(gx, np.log1p([0.5, 3.0, 1.0]))
    close(gy, [0.0, 0.0, 1.0])
    assert gradcheck(tg.special.xlog1py, (x, y))
    assert gradgradcheck(tg.special.xlog1py, (x, y))


def test_xlog1py_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    xs, ys = [0.0, -1.5, 0.0, 2.0], [0.5, 0.25, -0.5, 4.0]
    a = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    torch.special.xlog1py(a, torch.tensor(ys, dtype=torch.float64)).sum().backward()
    b = t64(xs, True)
    tg.special.xlog1py(b, t64(ys)).sum().backward()
    close(b.grad, a.grad.numpy())
