"""The rest of torch.special: erfcx, the Bessel functions J0, J1, Y0, Y1, I0, I1, K0, K1 (and
scaled K), the spherical j0, Airy Ai and the orthogonal polynomials. Series, integrals and
identities as references without PyTorch; PyTorch's values, dtypes and (lack of) gradients with
it."""

import math

import numpy as np
import pytest
from numpy.polynomial import chebyshev, hermite, hermite_e, laguerre, legendre

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck

EULER = 0.57721566490153286061
S = tg.special


def t64(values, requires_grad=False):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def series_j(order, x):
    """J0 or J1 by its power series sum_k (-1)**k (x/2)**(2k + order) / (k! (k + order)!)."""
    return math.fsum((-1) ** k * (x / 2) ** (2 * k + order)
                     / (math.factorial(k) * math.factorial(k + order)) for k in range(60))


def series_y0(x):
    """Y0 = 2/pi (log(x/2) + gamma) J0 + 2/pi sum_k (-1)**(k+1) H_k (x**2/4)**k / (k!)**2."""
    harmonic = np.cumsum(1 / np.arange(1, 60))
    tail = math.fsum((-1) ** (k + 1) * harmonic[k - 1] * (x * x / 4) ** k
                     / math.factorial(k) ** 2 for k in range(1, 60))
    return 2 / math.pi * ((math.log(x / 2) + EULER) * series_j(0, x) + tail)


def integral_k(nu, x):
    """K_nu(x) = integral_0^inf exp(-x cosh t) cosh(nu t) dt (the trapezoid rule is exact to
    rounding here: the integrand is smooth, even and decays double-exponentially)."""
    t = np.linspace(0, 12, 6001)
    f = np.exp(-x * np.cosh(t)) * np.cosh(nu * t)
    return (t[1] - t[0]) * (f.sum() - f[0] / 2)


def test_bessel_j_y_against_series_and_wronskian():
    # PyTorch's rational forms (kept, to give its values) are good to ~4e-7 only, worst just
    # past x = 5 (its denominators lack Cephes' implicit leading 1); near 0 they are exact
    for x, atol in ((np.array([0.0, 1e-6, 0.4, 1.0]), 1e-13),
                    (np.array([3.3, 4.9, 5.0, 5.01, 7.5, 10.0]), 5e-7)):
        np.testing.assert_allclose(S.bessel_j0(t64(x)).numpy(), [series_j(0, v) for v in x],
                                   rtol=0, atol=atol)
        np.testing.assert_allclose(S.bessel_j1(t64(x)).numpy(), [series_j(1, v) for v in x],
                                   rtol=0, atol=atol)
    x = np.array([0.0, 1e-6, 0.4, 1.0, 3.3, 5.0, 7.5])
    np.testing.assert_allclose(S.bessel_j0(t64(-x)).numpy(), S.bessel_j0(t64(x)).numpy())
    np.testing.assert_allclose(S.bessel_j1(t64(-x)).numpy(), -S.bessel_j1(t64(x)).numpy())
    np.testing.assert_allclose(S.bessel_y0(t64(x[2:4])).numpy(), [series_y0(v) for v in x[2:4]],
                               rtol=0, atol=1e-13)
    np.testing.assert_allclose(S.bessel_y0(t64(x[4:])).numpy(), [series_y0(v) for v in x[4:]],
                               rtol=0, atol=5e-7)
    # J1 Y0 - J0 Y1 = 2 / (pi x), out to where the asymptotic forms apply
    for x, rtol in ((np.array([0.2, 0.9]), 1e-13), (np.array([4.9, 6.0, 17.0, 300.0]), 1e-5)):
        j0, j1 = S.bessel_j0(t64(x)).numpy(), S.bessel_j1(t64(x)).numpy()
        y0, y1 = S.bessel_y0(t64(x)).numpy(), S.bessel_y1(t64(x)).numpy()
        np.testing.assert_allclose(j1 * y0 - j0 * y1, 2 / (math.pi * x), rtol=rtol)
    edges = t64([0.0, -1.0, math.inf, math.nan])
    np.testing.assert_array_equal(S.bessel_y0(edges).numpy()[[0, 1, 3]], [-math.inf, math.nan,
                                                                          math.nan])
    np.testing.assert_array_equal(S.bessel_y1(edges).numpy()[[0, 1, 3]], [-math.inf, math.nan,
                                                                          math.nan])


def test_modified_bessel_against_integrals():
    x = np.array([0.05, 0.5, 1.9, 2.0, 2.1, 6.0, 30.0])
    k0, k1 = S.modified_bessel_k0(t64(x)).numpy(), S.modified_bessel_k1(t64(x)).numpy()
    np.testing.assert_allclose(k0, [integral_k(0, v) for v in x], rtol=1e-13)
    np.testing.assert_allclose(k1, [integral_k(1, v) for v in x], rtol=1e-13)
    np.testing.assert_allclose(S.scaled_modified_bessel_k0(t64(x)).numpy(), np.exp(x) * k0,
                               rtol=1e-13)
    np.testing.assert_allclose(S.scaled_modified_bessel_k1(t64(x)).numpy(), np.exp(x) * k1,
                               rtol=1e-13)
    # I0 K1 + I1 K0 = 1 / x
    i0, i1 = S.modified_bessel_i0(t64(x)).numpy(), S.modified_bessel_i1(t64(x)).numpy()
    np.testing.assert_allclose(i0 * k1 + i1 * k0, 1 / x, rtol=1e-13)
    np.testing.assert_allclose(i0, S.i0(t64(x)).numpy(), rtol=1e-15)
    for fn in (S.modified_bessel_k0, S.modified_bessel_k1, S.scaled_modified_bessel_k1):
        np.testing.assert_array_equal(fn(t64([0.0, -1.0, math.inf])).numpy(),
                                      [math.inf, math.nan, 0.0])
    assert math.isnan(S.modified_bessel_k0(t64([math.nan])).item())


def test_spherical_j0_airy_and_erfcx():
    x = np.array([-20.0, -3.0, -0.4, 1e-3, 0.49, 0.5, 2.0, 50.0])
    np.testing.assert_allclose(S.spherical_bessel_j0(t64(x)).numpy(), np.sin(x) / x, rtol=1e-14)
    np.testing.assert_array_equal(S.spherical_bessel_j0(t64([0.0, math.inf, -math.inf])).numpy(),
                                  [1.0, 0.0, 0.0])
    ai0 = 1 / (3 ** (2 / 3) * math.gamma(2 / 3))
    np.testing.assert_allclose(S.airy_ai(t64([0.0])).numpy(), [ai0], rtol=1e-15)
    # Ai(x) = sqrt(x / 3) K_{1/3}(2/3 x**1.5) / pi for x > 0
    x = np.array([0.3, 1.5, 2.09, 4.0, 9.0])
    expected = [math.sqrt(v / 3) * integral_k(1 / 3, 2 / 3 * v ** 1.5) / math.pi for v in x]
    np.testing.assert_allclose(S.airy_ai(t64(x)).numpy(), expected, rtol=1e-13)
    # Ai'' = x Ai across all three forms; PyTorch's oscillating one (below -2.09) is good to
    # ~3e-6 only, as is its first zero
    ai = lambda v: S.airy_ai(t64(v)).numpy()  # noqa: E731
    for x, atol in ((np.linspace(-2, 6, 17), 2e-7), (np.linspace(-9, -2.5, 14), 3e-5)):
        h = 1e-3
        np.testing.assert_allclose((ai(x + h) - 2 * ai(x) + ai(x - h)) / h ** 2, x * ai(x),
                                   rtol=0, atol=atol)
    np.testing.assert_allclose(ai(np.array([-2.338107410459767])), [0.0], atol=5e-6)
    np.testing.assert_array_equal(S.airy_ai(t64([math.inf, -math.inf, 200.0])).numpy(),
                                  [math.nan, math.nan, 0.0])
    x = np.array([-5.0, -1.0, -0.1, 0.0, 0.3, 2.0, 10.0])
    np.testing.assert_allclose(S.erfcx(t64(x)).numpy(),
                               [math.exp(v * v) * math.erfc(v) for v in x], rtol=1e-13)
    big = np.array([60.0, 1e3, 1e8])
    np.testing.assert_allclose(S.erfcx(t64(big)).numpy(),
                               (1 - 1 / (2 * big ** 2) + 3 / (4 * big ** 4) - 15 / (8 * big ** 6)
                                + 105 / (16 * big ** 8)) / (big * math.sqrt(math.pi)), rtol=1e-12)
    np.testing.assert_array_equal(S.erfcx(t64([-30.0, math.inf])).numpy(), [math.inf, 0.0])


def test_erfcx_gradients():
    x = t64([-2.0, -0.3, 0.0, 0.8, 4.0, 70.0], requires_grad=True)
    assert gradcheck(S.erfcx, (x,))
    assert gradgradcheck(S.erfcx, (x,))


def test_no_gradients_and_dtypes():
    x = t64([0.5, 1.5], requires_grad=True)
    for fn in (S.bessel_j0, S.bessel_y1, S.modified_bessel_i1, S.scaled_modified_bessel_k0,
               S.airy_ai, S.spherical_bessel_j0):
        out = fn(x)
        assert not out.requires_grad and out.grad_fn is None and out.dtype == tg.float64
    assert S.bessel_j1(tg.tensor([1, 2])).dtype == tg.float32
    assert S.modified_bessel_k1(tg.tensor([1.0], dtype=tg.float32)).dtype == tg.float32
    out = S.chebyshev_polynomial_t(x, 3)
    assert not out.requires_grad and out.dtype == tg.float64
    f32 = tg.tensor([0.5], dtype=tg.float32)
    assert S.hermite_polynomial_h(f32, tg.tensor([3])).dtype == tg.float32
    assert S.legendre_polynomial_p(tg.tensor([1, 2]), 3).dtype == tg.float32
    assert S.laguerre_polynomial_l(f32, t64(2.0)).dtype == tg.float32
    assert S.chebyshev_polynomial_u(0.5, tg.tensor([2, 3])).dtype == tg.float32
    with pytest.raises(TypeError, match="must be Tensor"):
        S.bessel_j0(1.0)


def test_polynomials_against_numpy():
    x = np.array([-1.3, -1.0, -0.7, 0.0, 0.2, 0.5, 0.99, 1.0, 2.0])
    for n in (0, 1, 2, 5, 9, 13):
        unit = np.eye(n + 1)[n]
        cases = [(S.chebyshev_polynomial_t, chebyshev.chebval(x, unit)),
                 (S.hermite_polynomial_h, hermite.hermval(x, unit)),
                 (S.hermite_polynomial_he, hermite_e.hermeval(x, unit)),
                 (S.laguerre_polynomial_l, laguerre.lagval(x, unit)),
                 (S.legendre_polynomial_p, legendre.legval(x, unit)),
                 (S.shifted_chebyshev_polynomial_t, chebyshev.chebval(2 * x - 1, unit))]
        for fn, expected in cases:
            got = fn(t64(x), tg.tensor([n] * len(x))).numpy()
            np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-11, err_msg=fn.__name__)
        # U, V, W in the angle: sin((n+1)t)/sin t, cos((n+1/2)t)/cos(t/2), sin((n+1/2)t)/sin(t/2)
        y = np.array([-0.9, -0.3, 0.1, 0.6, 0.95])
        t = np.arccos(y)
        for fn, expected in ((S.chebyshev_polynomial_u, np.sin((n + 1) * t) / np.sin(t)),
                             (S.chebyshev_polynomial_v, np.cos((n + .5) * t) / np.cos(t / 2)),
                             (S.chebyshev_polynomial_w, np.sin((n + .5) * t) / np.sin(t / 2))):
            np.testing.assert_allclose(fn(t64(y), n).numpy(), expected, rtol=1e-11, atol=1e-12)
            shifted = getattr(S, "shifted_" + fn.__name__)
            np.testing.assert_allclose(shifted(t64((y + 1) / 2), n).numpy(), expected,
                                       rtol=1e-11, atol=1e-12)
    # degree per element (broadcast), negative degree gives 0, and a float degree is truncated
    n = tg.tensor([[0], [1], [4], [-2]])
    got = S.legendre_polynomial_p(t64([0.3, 0.8]), n).numpy()
    np.testing.assert_allclose(got[2], legendre.legval([0.3, 0.8], [0, 0, 0, 0, 1]), rtol=1e-14)
    np.testing.assert_array_equal(got[3], [0.0, 0.0])
    np.testing.assert_allclose(S.chebyshev_polynomial_t(t64([0.5]), 2.7).numpy(), [-0.5])
    assert np.isnan(S.hermite_polynomial_h(t64([0.5]), 600).item())      # past PyTorch's 512


FUNCTIONS = [
    ("erfcx", np.r_[np.linspace(-20, 30, 101), 60.0, 1e8, -27.0]),
    ("bessel_j0", np.linspace(-30, 30, 121)), ("bessel_j1", np.linspace(-30, 30, 121)),
    ("bessel_y0", np.r_[np.linspace(0, 30, 61), -1.0]),
    ("bessel_y1", np.r_[np.linspace(0, 30, 61), -1.0]),
    ("modified_bessel_i0", np.linspace(-30, 30, 61)),
    ("modified_bessel_i1", np.linspace(-30, 30, 61)),
    ("modified_bessel_k0", np.r_[np.linspace(0, 30, 61), -1.0]),
    ("modified_bessel_k1", np.r_[np.linspace(0, 30, 61), -1.0]),
    ("scaled_modified_bessel_k0", np.linspace(0, 30, 61)),
    ("scaled_modified_bessel_k1", np.linspace(0, 30, 61)),
    ("spherical_bessel_j0", np.linspace(-30, 30, 121)),
    ("airy_ai", np.r_[np.linspace(-15, 15, 121), 120.0]),
]


@pytest.mark.parametrize("name, x", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_matches_torch(name, x):
    torch = pytest.importorskip("torch")
    x = np.r_[x, np.inf, -np.inf, np.nan, 0.0]
    # float32: PyTorch computes in float32 (we in float64, then round), so its own error near
    # the zeros of the oscillating functions sets the tolerance there
    for dtype, rtol, atol in ((np.float64, 1e-13, 1e-15), (np.float32, 1e-5, 2e-6)):
        want = getattr(torch.special, name)(torch.from_numpy(x.astype(dtype))).numpy()
        got = getattr(S, name)(tg.tensor(x.astype(dtype))).numpy()
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=name)


def test_polynomials_match_torch():
    torch = pytest.importorskip("torch")
    x = np.r_[np.linspace(-1.5, 1.5, 31), 0.0, 1.0, -1.0, 0.5, np.inf, np.nan]
    ns = np.array([-1, 0, 1, 2, 3, 5, 7, 9, 12])
    xx, nn = np.repeat(x, ns.size), np.tile(ns, x.size)
    names = [f"{s}chebyshev_polynomial_{k}" for s in ("", "shifted_") for k in "tuvw"] + [
        "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
        "legendre_polynomial_p"]
    for dtype, rtol in ((np.float64, 1e-13), (np.float32, 5e-5)):
        for name in names:
            want = getattr(torch.special, name)(torch.from_numpy(xx.astype(dtype)),
                                                torch.from_numpy(nn)).numpy()
            got = getattr(S, name)(tg.tensor(xx.astype(dtype)), tg.tensor(nn)).numpy()
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=name)
