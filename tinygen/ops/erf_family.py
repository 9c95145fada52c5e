"""Array kernels of the error-function family: erfinv (PyTorch's: a rational first guess refined
by two Newton steps on erf), the inverse normal CDF ndtri (Cephes), and log_ndtr, the log of the
normal CDF, kept finite far into the lower tail by its asymptotic series.

Derived in part from the Cephes Math Library (Copyright (c) 2018, Steven Moshier, 3-clause BSD),
by way of PyTorch's ATen/native/Math.h. erf and erfc come from ``special_function`` (libm on the
host, cupyx.scipy.special on a GPU); the rest is plain array code.
"""

import math

import numpy as np

from tinygen.backend import get_array_module
from tinygen.ops.gamma import polevl
from tinygen.ops.pointwise import special_function

_erf, _erfc = special_function("erf"), special_function("erfc")


def erf(x):
    """erf of an array; a 0-d array's arithmetic gives NumPy scalars, so make x an array."""
    return _erf(get_array_module(x).asarray(x))


def erfc(x):
    """erfc of an array (or a NumPy scalar, as erf)."""
    return _erfc(get_array_module(x).asarray(x))

SQRT_2PI = math.sqrt(2 * math.pi)
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
ERFINV_A = (-0.140543331, 0.914624893, -1.645349621, 0.886226899)
ERFINV_B = (0.012229801, -0.329097515, 1.442710462, -2.118377725, 1.0)
ERFINV_C = (1.641345311, 3.429567803, -1.624906493, -1.970840454)
ERFINV_D = (1.637067800, 3.543889200, 1.0)
# Cephes ndtri's rational approximations (highest power first)
NDTRI_P0 = (
    -59.96335010141079, 98.00107541859997, -56.67628574690703, 13.931260938727968,
    -1.2391658386738125)
NDTRI_Q0 = (
    1.0, 1.9544885833814176, 4.676279128988815, 86.36024213908905, -225.46268785411937,
    200.26021238006066, -82.03722561683334, 15.90562251262117, -1.1833162112133)
NDTRI_P1 = (
    4.0554489230596245, 31.525109459989388, 57.16281922464213, 44.08050738932008,
    14.684956192885803, 2.1866330685079025, -0.1402560791713545, -0.03504246268278482,
    -0.0008574567851546854)
NDTRI_Q1 = (
    1.0, 15.779988325646675, 45.39076351288792, 41.3172038254672, 15.04253856929075,
    2.504649462083094, -0.14218292285478779, -0.03808064076915783, -0.0009332594808954574)
NDTRI_P2 = (
    3.2377489177694603, 6.915228890689842, 3.9388102529247444, 1.3330346081580755,
    0.20148538954917908, 0.012371663481782003, 0.00030158155350823543, 2.6580697468673755e-06,
    6.239745391849833e-09)
NDTRI_Q2 = (
    1.0, 6.02427039364742, 3.6798356385616087, 1.3770209948908132, 0.21623699359449663,
    0.013420400608854318, 0.00032801446468212774, 2.8924786474538068e-06, 6.790194080099813e-09)


def erfinv(y):
    """The x with erf(x) = y, for -1 <= y <= 1 (+-inf at +-1, NaN outside); computed in
    float64 and returned in y's dtype."""
    xp = get_array_module(y)
    y64 = y.astype(xp.float64)
    a = xp.abs(y64)
    with np.errstate(all="ignore"):
        z = y64 * y64
        central = y64 * polevl(z, ERFINV_A) / polevl(z, ERFINV_B)
        t = xp.sqrt(-xp.log((1 - xp.minimum(a, 1)) / 2))
        tail = xp.copysign(polevl(t, ERFINV_C), y64) / polevl(t, ERFINV_D)
        x = xp.where(a <= 0.7, central, tail)
        for _ in range(2):                              # Newton on erf(x) - y
            x = x - (erf(x) - y64) / (2 / math.sqrt(math.pi) * xp.exp(-x * x))
        x = xp.where(a == 1, xp.copysign(xp.inf, y64), x)
        x = xp.where(a > 1, xp.nan, x)
    return x.astype(y.dtype, copy=False)


def ndtri(p):
    """The x with ndtr(x) = p, for 0 <= p <= 1 (Cephes ndtri): -inf at 0, inf at 1, NaN
    outside."""
    xp = get_array_module(p)
    with np.errstate(all="ignore"):
        upper = p > 1 - 0.13533528323661269189         # exp(-2): past it, use 1 - p
        y = xp.where(upper, 1 - p, p)
        c = y - 0.5
        c2 = c * c
        central = (c + c * (c2 * polevl(c2, NDTRI_P0) / polevl(c2, NDTRI_Q0))) * SQRT_2PI
        x = xp.sqrt(-2 * xp.log(y))
        r = 1 / x
        near = r * polevl(r, NDTRI_P1) / polevl(r, NDTRI_Q1)
        far = r * polevl(r, NDTRI_P2) / polevl(r, NDTRI_Q2)
        tail = x - xp.log(x) / x - xp.where(x < 8, near, far)
        tail = xp.where(upper, tail, -tail)
        out = xp.where(y > 0.13533528323661269189, central, tail)
        out = xp.where(p == 0, -xp.inf, xp.where(p == 1, xp.inf, out))
        out = xp.where((p < 0) | (p > 1), xp.nan, out)
    return out.astype(p.dtype, copy=False)


def log_ndtr(x):
    """log ndtr(x): log1p(-erfc(x/sqrt 2)/2) above -1, log(erfc(-x/sqrt 2)/2) down to -20, and
    below that the asymptotic series -x**2/2 - log(-x sqrt(2 pi)) + log(1 - 1/x**2 + 3/x**4 ...),
    so it stays finite where the CDF underflows. Computed in float64 (float32's erfc
    underflows from x = -13)."""
    xp = get_array_module(x)
    dtype, x = x.dtype, x.astype(xp.float64)
    with np.errstate(all="ignore"):
        s = x / math.sqrt(2)
        upper = xp.log1p(-erfc(s) / 2)
        middle = xp.log(erfc(-s) / 2)
        far = xp.where(x < -20, x, -20)
        r = 1 / (far * far)
        series = 1 + r * polevl(r, (10395.0, -945.0, 105.0, -15.0, 3.0, -1.0))
        lower = -far * far / 2 - xp.log(-far) - HALF_LOG_2PI + xp.log(series)
        out = xp.where(x > -1, upper, xp.where(x >= -20, middle, lower))
        out = xp.where(xp.isnan(x), x, out)
    return out.astype(dtype, copy=False)


def entr(x):
    """-x log x for x > 0, 0 at 0, -inf for x < 0 (NaN stays NaN)."""
    xp = get_array_module(x)
    with np.errstate(all="ignore"):
        out = xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, 1)), 0)
        out = xp.where(x < 0, -xp.inf, out)
        out = xp.where(xp.isnan(x), xp.nan, out)
    return out.astype(x.dtype, copy=False)
