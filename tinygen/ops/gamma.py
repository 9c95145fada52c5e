"""Array kernels for the gamma family: lgamma (libm's, through Numba), digamma, the Hurwitz zeta
function and polygamma, with PyTorch's values at the poles.

digamma follows PyTorch's calc_digamma (recurrence up to x >= 10, then the asymptotic series;
reflection for x < 0); zeta follows Cephes (a direct sum, then the Euler-Maclaurin tail), and
polygamma(n, x) = (-1)**(n+1) n! zeta(n+1, x). All but lgamma on the host are plain array code,
so they run on NumPy and CuPy alike.
"""

import math

import numpy as np

from tinygen.backend import get_array_module, has_numba

EULER = 0.57721566490153286061
PSI_10 = 2.25175258906672110764                        # digamma(10)
# the asymptotic series of digamma in z = 1/x**2 (Cephes psi), highest power first
PSI_A = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
         -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
         8.33333333333333333333e-2)
# (2k)! / B_2k: the Euler-Maclaurin denominators of the zeta tail (Cephes zeta)
ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
          7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
          -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)

_numba_lgamma = None


def _host_lgamma(x):
    """libm's lgamma on a NumPy array: a Numba ufunc compiled on first use, else math.lgamma
    element by element (which raises at the poles, so those are set to inf)."""
    global _numba_lgamma
    if has_numba():
        if _numba_lgamma is None:
            import numba
            _numba_lgamma = numba.vectorize(["float64(float64)"])(lambda t: math.lgamma(t))
        with np.errstate(divide="ignore"):
            return _numba_lgamma(x)
    def scalar(t):
        return math.inf if t <= 0 and t == math.floor(t) else math.lgamma(t)
    return np.frompyfunc(scalar, 1, 1)(x).astype(np.float64)


def lgamma(x):
    """log |Gamma(x)|, inf at 0 and the negative integers, in x's dtype."""
    if isinstance(x, np.ndarray):
        return np.asarray(_host_lgamma(x.astype(np.float64)), dtype=x.dtype)
    import cupyx.scipy.special
    return cupyx.scipy.special.gammaln(x)


def polevl(z, coefficients):
    """The polynomial with these coefficients (highest power first) at z, by Horner's rule."""
    out = coefficients[0] + 0 * z
    for c in coefficients[1:]:
        out = out * z + c
    return out


def digamma(x):
    """d/dx log Gamma(x). As PyTorch: -inf at +0, inf at -0, NaN at the negative integers and
    -inf, inf at inf."""
    xp = get_array_module(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        negative = x < 0
        pole = negative & (x == xp.floor(x))
        # reflection: psi(x) = psi(1 - x) - pi / tan(pi x), with x's fractional part in tan
        shift = xp.where(negative, -math.pi / xp.tan(math.pi * (x - xp.trunc(x))), 0)
        y = xp.where(negative, 1 - x, x)
        result = xp.zeros_like(y)
        for _ in range(10):                          # psi(y) = psi(y + 1) - 1/y up to y >= 10
            small = y < 10
            result = result - xp.where(small, 1 / xp.where(small, y, 1), 0)
            y = y + small
        big = xp.where(y < 1e17, y, 1e17)
        z = 1 / (big * big)
        series = xp.where(y < 1e17, z * polevl(z, PSI_A), 0)
        out = result + xp.log(y) - 0.5 / y - series + shift
        out = xp.where(y == 10, result + PSI_10 + shift, out)
        out = xp.where(pole, xp.nan, out)
        out = xp.where(x == 0, xp.copysign(xp.asarray(math.inf, dtype=x.dtype), -x), out)
    return out.astype(x.dtype, copy=False)


def zeta(s, q):
    """The Hurwitz zeta function sum_k (k + q)**-s (s > 1): inf at s == 1 and at q a
    non-positive integer, NaN for s < 1 and for q < 0 with s not an integer (as Cephes)."""
    xp = get_array_module(q)
    dtype = xp.result_type(s, q)
    s, q = xp.broadcast_arrays(s.astype(xp.float64), q.astype(xp.float64))   # float32 cancels
    with np.errstate(all="ignore"):
        # terms directly: q up to w = q + n >= 9 + (at least 9 of them)
        lowest = float(xp.min(xp.where(xp.isfinite(q), q, 0))) if q.size else 0.0
        n = 9 + max(0, math.ceil(9 - lowest))
        total = xp.zeros_like(q)
        for k in range(n):
            total = total + (q + k) ** -s
        w = q + n
        b = w ** -s
        # Euler-Maclaurin for the rest: its integral, half its first term, Bernoulli terms
        total = total + b * w / (s - 1) + 0.5 * b
        a, term_scale, k = xp.ones_like(w), b, 0.0
        for denominator in ZETA_A:
            a = a * (s + k)
            term_scale = term_scale / w
            # (an underflowed scale times an overflowed product is 0, not NaN)
            total = total + xp.where(term_scale == 0, 0, a * term_scale / denominator)
            k += 1
            a = a * (s + k)
            term_scale = term_scale / w
            k += 1
        out = xp.where(s == 1, xp.inf, total)
        out = xp.where(s < 1, xp.nan, out)
        nonpositive = q <= 0
        out = xp.where(nonpositive & (q != xp.floor(q)) & (s != xp.floor(s)), xp.nan, out)
        out = xp.where(nonpositive & (q == xp.floor(q)) & (s > 1), xp.inf, out)
    return out.astype(dtype, copy=False)


def polygamma(n, x):
    """The n-th derivative of digamma: digamma for n == 0, else (-1)**(n+1) n! zeta(n+1, x)."""
    if n == 0:
        return digamma(x)
    sign = -1.0 if n % 2 == 0 else 1.0
    xp = get_array_module(x)
    return (sign * math.factorial(n) * zeta(xp.asarray(n + 1.0, dtype=x.dtype), x)).astype(
        x.dtype, copy=False)
