"""Array kernels for the rest of torch.special's Bessel family and its neighbours: J0, J1, Y0, Y1
(Cephes' rational approximations), K0, K1 and their scaled forms exp(x) K (Cephes' Chebyshev
expansions), the spherical j0, the Airy function Ai and erfcx(x) = exp(x**2) erfc(x) (Steven G.
Johnson's Chebyshev pieces), each as PyTorch's ATen/native/Math.h computes it.

Every branch is evaluated on the whole array (at a harmless point where it does not apply) and
the right one picked with ``where``, so the code is plain array code for NumPy and CuPy. The work
is done in float64 and the result given in the input's dtype.
"""

import math

import numpy as np

from tinygen.backend import get_array_module
from tinygen.ops import bessel
from tinygen.ops import cephes_bessel_table as T
from tinygen.ops.bessel import chbevl
from tinygen.ops.erfcx_table import ERFCX_Y100
from tinygen.ops.gamma import polevl

SQRT_2_OVER_PI = 0.797884560802865355879892119868763737
PI_4, PI_3_4 = 0.785398163397448309615660845819875721, 2.356194490192344928846982537459627163
TWO_OVER_PI = 0.636619772367581343075535053490057448
INV_SQRT_PI = 5.64189583547756286948e-01


def _float64(fn):
    """Run the kernel ``fn(x, xp, dtype)`` on x in float64, quietly (inf and NaN are values
    here), and give the result in x's dtype, NaN where x is NaN. ``dtype`` is for the few steps
    that PyTorch rounds in x's dtype where the rounding shows (x - pi/4, x**2 before exp)."""
    def apply(x):
        xp = get_array_module(x)
        with np.errstate(all="ignore"):
            x64 = x.astype(xp.float64)
            out = xp.where(xp.isnan(x64), x64, fn(x64, xp, x.dtype))
        return out.astype(x.dtype, copy=False)
    apply.__name__, apply.__doc__ = fn.__name__, fn.__doc__
    return apply


def _far(x, xp, dtype, pp, pq, qp, qq, w, phase, j):
    """The large-x form of J (``j``) or Y: sqrt(2/(pi x)) (P cos(x - phase) - 5/x Q sin(...)) for
    J and (P sin + 5/x Q cos) for Y, with P = pp/pq and Q = qp/qq in w."""
    p, q = polevl(w, pp) / polevl(w, pq), polevl(w, qp) / polevl(w, qq)
    angle = (x.astype(dtype) - xp.asarray(phase, dtype)).astype(xp.float64)
    c, s = xp.cos(angle), xp.sin(angle)
    wave = p * c - 5 / x * q * s if j else p * s + 5 / x * q * c
    return wave * SQRT_2_OVER_PI / xp.sqrt(x)


@_float64
def bessel_j0(x, xp, dtype):
    """The Bessel function of the first kind of order 0 (even)."""
    x = xp.abs(x)
    z = x * x
    near = (z - 5.78318596294678452118e+00) * (z - 3.04712623436620863991e+01) \
        * polevl(z, T.J0_RP) / polevl(z, T.J0_RQ)
    near = xp.where(x < 1e-5, 1 - z / 4, near)
    far = _far(x, xp, dtype, T.J0_PP, T.J0_PQ, T.J0_QP, T.J0_QQ, 25 / z, PI_4, True)
    return xp.where(x <= 5, near, far)


@_float64
def bessel_j1(x, xp, dtype):
    """The Bessel function of the first kind of order 1 (odd)."""
    sign, x = xp.where(x < 0, -1.0, 1.0), xp.abs(x)
    z = x * x
    near = polevl(z, T.J1_RP) / polevl(z, T.J1_RQ) * x * (z - 1.46819706421238932572e+01) \
        * (z - 4.92184563216946036703e+01)
    far = _far(x, xp, dtype, T.J1_PP, T.J1_PQ, T.J1_QP, T.J1_QQ, (5 / x) * (5 / x), PI_3_4, True)
    return sign * xp.where(x <= 5, near, far)


def _y_edges(x, xp, out):
    """-inf at 0 and NaN below, as PyTorch's Y0 and Y1."""
    return xp.where(x == 0, -xp.inf, xp.where(x < 0, xp.nan, out))


@_float64
def bessel_y0(x, xp, dtype):
    """The Bessel function of the second kind of order 0 (x > 0)."""
    z = x * x
    near = polevl(z, T.Y0_YP) / polevl(z, T.Y0_YQ) + TWO_OVER_PI * xp.log(x) * bessel_j0(x)
    far = _far(x, xp, dtype, T.Y0_PP, T.Y0_PQ, T.Y0_QP, T.Y0_QQ, 25 / z, PI_4, False)
    return _y_edges(x, xp, xp.where(x <= 5, near, far))


@_float64
def bessel_y1(x, xp, dtype):
    """The Bessel function of the second kind of order 1 (x > 0)."""
    z = x * x
    near = x * (polevl(z, T.Y1_YP) / polevl(z, T.Y1_YQ)) \
        + TWO_OVER_PI * (bessel_j1(x) * xp.log(x) - 1 / x)
    w = (5 / x) * (5 / x)
    far = _far(x, xp, dtype, T.Y1_PP, T.Y1_PQ, T.Y1_QP, T.Y1_QQ, w, PI_3_4, False)
    return _y_edges(x, xp, xp.where(x <= 5, near, far))


def _k(x, xp, order, scaled):
    """K0 or K1 (``order``), times exp(x) if ``scaled``: Chebyshev in x**2 - 2 on (0, 2] (with
    log(x/2) I(x)), in 8/x - 2 beyond; inf at 0 and NaN below, as PyTorch."""
    a, b = (T.K0_A, T.K0_B) if order == 0 else (T.K1_A, T.K1_B)
    near_x = xp.where(x <= 2, x, 1.0)
    series = chbevl(near_x * near_x - 2, a)
    if order == 0:
        near = series - xp.log(0.5 * near_x) * bessel.i0(near_x)
    else:
        near = xp.log(0.5 * near_x) * bessel.i1(near_x) + series / near_x
    near = near * xp.exp(near_x) if scaled else near
    far_x = xp.where(x > 2, x, 4.0)
    far = chbevl(8 / far_x - 2, b) / xp.sqrt(far_x)
    far = far if scaled else xp.exp(-far_x) * far
    out = xp.where(x <= 2, near, far)
    return xp.where(x == 0, xp.inf, xp.where(x < 0, xp.nan, out))


@_float64
def modified_bessel_k0(x, xp, dtype):
    """The modified Bessel function of the second kind of order 0 (x > 0)."""
    return _k(x, xp, 0, False)


@_float64
def modified_bessel_k1(x, xp, dtype):
    """The modified Bessel function of the second kind of order 1 (x > 0)."""
    return _k(x, xp, 1, False)


@_float64
def scaled_modified_bessel_k0(x, xp, dtype):
    """exp(x) K0(x) (x > 0)."""
    return _k(x, xp, 0, True)


@_float64
def scaled_modified_bessel_k1(x, xp, dtype):
    """exp(x) K1(x) (x > 0)."""
    return _k(x, xp, 1, True)


@_float64
def spherical_bessel_j0(x, xp, dtype):
    """sin(x) / x, by its Taylor polynomial where |x| < 1/2, and 0 at +-inf."""
    z = x * x
    taylor = 1 + z * (-1 / 6 + z * (1 / 120 + z * (-1 / 5040 + z * (
        1 / 362880 + z * (-1 / 39916800 + z * (1 / 6227020800))))))
    out = xp.where(xp.abs(x) < 0.5, taylor, xp.sin(x) / x)
    return xp.where(xp.isinf(x), 0.0, out)


@_float64
def airy_ai(x, xp, dtype):
    """The Airy function Ai: its asymptotic forms for x < -2.09 and x >= 2.09, the power series
    f(x) c1 - g(x) c2 between (Cephes airy), NaN at +-inf and 0 above 103.892."""
    neg = xp.where(x < -2.09, x, -4.0)
    root = xp.sqrt(-neg)
    zeta = -2 * neg * root / 3
    z = 1 / zeta
    zz = z * z
    f = polevl(zz, T.AIRY_AFN) / polevl(zz, T.AIRY_AFD)
    g = polevl(zz, T.AIRY_AGN) / polevl(zz, T.AIRY_AGD)
    theta = zeta + 0.25 * math.pi
    oscillating = INV_SQRT_PI / xp.sqrt(root) * (xp.sin(theta) * (1 + zz * f)
                                                 - xp.cos(theta) * (z * g))
    pos = xp.where(x >= 2.09, x, 4.0)
    zeta = 2 * pos * xp.sqrt(pos) / 3
    ratio = polevl(1 / zeta, T.AIRY_AN) / polevl(1 / zeta, T.AIRY_AD)
    scale = 2 * xp.sqrt(xp.sqrt(pos)) * xp.exp(zeta)
    scale = xp.where(scale > xp.finfo(dtype).max, xp.inf, scale)   # 0 past dtype's range
    decaying = INV_SQRT_PI * ratio / scale
    series = _airy_series(xp.where((x >= -2.09) & (x < 2.09), x, 0.0), xp)
    out = xp.where(x >= 2.09, decaying, series)
    out = xp.where(x < -2.09, oscillating, out)
    out = xp.where(x > 103.892, 0.0, out)
    return xp.where(xp.isinf(x), xp.nan, out)


def _airy_series(x, xp):
    """0.355... f(x) - 0.2588... g(x), the Maclaurin series of Ai, summed until the terms of f
    fall below the float64 epsilon (|x| < 2.09 here)."""
    f, g, m, n, k = xp.ones_like(x), x.copy(), xp.ones_like(x), x.copy(), 1.0
    z = x * x * x
    active = xp.ones(x.shape, bool)
    for _ in range(200):
        m = xp.where(active, m * z / (k + 1) / (k + 2), m)
        n = xp.where(active, n * z / (k + 2) / (k + 3), n)
        f, g = xp.where(active, f + m, f), xp.where(active, g + n, g)
        k += 3
        active = active & (xp.abs(m / f) > np.finfo(np.float64).eps)
        if not bool(active.any()):
            break
    return 0.355028053887817239260 * f - 0.258819403792806798405 * g


def _erfcx_y100(y100, xp):
    """The Chebyshev piece of erfcx for y100 in [0, 100) (1 at y100 == 100, x == 0)."""
    piece = xp.clip(xp.floor(y100), 0, 99).astype(xp.int64)
    c = xp.asarray(ERFCX_Y100)[piece]
    t = 2 * y100 - (2 * piece + 1)
    out = c[..., 6]
    for i in range(5, -1, -1):
        out = c[..., i] + out * t
    return xp.where(y100 >= 100, 1.0, out)


@_float64
def erfcx(x, xp, dtype):
    """exp(x**2) erfc(x), without overflow for large x: a continued fraction past 50, the
    Chebyshev pieces in 400 / (4 + |x|) below (2 exp(x**2) - erfcx(-x) for x < 0)."""
    ax = xp.abs(x)
    cheb = _erfcx_y100(400 / (4 + xp.where(xp.isnan(ax), 0.0, ax)), xp)
    x2 = x * x
    rounded = x.astype(dtype)                 # PyTorch squares x in its dtype before exp
    exp_x2 = xp.exp((rounded * rounded).astype(xp.float64))
    fraction = INV_SQRT_PI * (x2 * (x2 + 4.5) + 2) / (x * (x2 * (x2 + 5) + 3.75))
    positive = xp.where(x > 50, xp.where(x > 5e7, INV_SQRT_PI / x, fraction), cheb)
    negative = xp.where(x < -6.1, 2 * exp_x2, 2 * exp_x2 - cheb)
    negative = xp.where(x < -26.7, xp.inf, negative)
    return xp.where(x >= 0, positive, xp.where(xp.isnan(x), x, negative))
