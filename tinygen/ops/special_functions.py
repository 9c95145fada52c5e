"""The special functions of torch.special as differentiable ops: lgamma, digamma, polygamma,
mvlgamma, erfinv, the Bessel functions i0, i0e, i1, i1e, entr, ndtr, ndtri, log_ndtr, xlog1py and
the Hurwitz zeta.

The values come from the array kernels in gamma.py, bessel.py and erf_family.py. Each derivative
is written with these ops (digamma's is polygamma(1, x), erfinv's uses erfinv), so backward can
be differentiated again. Integer and bool inputs give the default float dtype, as in PyTorch.
"""

import math

import numpy as np

from tinygen.backend import get_array_module
from tinygen.ops import bessel, erf_family, gamma
from tinygen.ops.compare import sign, where
from tinygen.ops.convert import float_input
from tinygen.ops.elementwise import exp, log, log1p
from tinygen.ops.special import binary, erfc, unary
from tinygen.tensor import Tensor

SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2
SQRT_2PI = math.sqrt(2 * math.pi)


def lgamma(input):
    """log |Gamma(x)|;  d/dx = digamma(x)."""
    return unary(input, gamma.lgamma, digamma)


def digamma(input):
    """d/dx log Gamma(x) (psi);  d/dx = polygamma(1, x). -inf at +0, NaN at the negative
    integers, as PyTorch."""
    return unary(input, gamma.digamma, lambda t: polygamma(1, t))


def polygamma(n, input):
    """The n-th derivative of digamma (n >= 0);  d/dx = polygamma(n + 1, x)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n={n})")
    return unary(input, lambda a: gamma.polygamma(n, a), lambda t: polygamma(n + 1, t))


def mvlgamma(input, p):
    """The log of the multivariate gamma function of dimension p:
    p (p - 1) / 4 log(pi) + sum_{i < p} lgamma(x - i / 2). Defined for x > (p-1)/2; below, as
    PyTorch 2.x, the value is whatever lgamma gives (inf at its poles), nothing is raised."""
    if not isinstance(p, int) or p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got {p!r}")
    x = float_input(input)
    xp = get_array_module(x.array)
    halves = Tensor(xp.arange(p, dtype=x.dtype) / 2)
    return lgamma(x.unsqueeze(-1) - halves).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def erfinv(input):
    """The inverse of erf on [-1, 1];  d/dx = sqrt(pi)/2 exp(erfinv(x)**2)."""
    return unary(input, erf_family.erfinv, lambda t: exp(erfinv(t) ** 2) * SQRT_PI_OVER_2)


def i0(input):
    """The modified Bessel function I0;  d/dx = I1(x)."""
    return unary(input, bessel.i0, i1)


def i0e(input):
    """exp(-|x|) I0(x);  d/dx = i1e(x) - sign(x) i0e(x)."""
    return unary(input, bessel.i0e, lambda t: i1e(t) - sign(t) * i0e(t))


def _at_zero_half(t, fn):
    """fn(t) (a derivative with a removable 0/0 at t == 0), and its limit 1/2 there."""
    zero = Tensor(t.array == 0)
    return where(zero, 0.5, fn(where(zero, 1, t)))


def i1(input):
    """The modified Bessel function I1;  d/dx = I0(x) - I1(x) / x, 1/2 at x = 0."""
    return unary(input, bessel.i1, lambda t: _at_zero_half(t, lambda s: i0(s) - i1(s) / s))


def i1e(input):
    """exp(-|x|) I1(x);  d/dx = i0e(x) - i1e(x) (sign(x) + 1/x), 1/2 at x = 0."""
    return unary(input, bessel.i1e, lambda t: _at_zero_half(
        t, lambda s: i0e(s) - i1e(s) * (sign(s) + 1 / s)))


def entr(input):
    """-x log x for x > 0, 0 at 0, -inf below;  d/dx = -(log x + 1)."""
    return unary(input, erf_family.entr, lambda t: -(log(t) + 1))


def ndtr(input):
    """The standard normal CDF, erfc(-x / sqrt 2) / 2 (its gradient comes from erfc)."""
    return erfc(float_input(input) * -math.sqrt(0.5)) * 0.5


def ndtri(input):
    """The inverse of ndtr on [0, 1];  d/dp = sqrt(2 pi) exp(ndtri(p)**2 / 2)."""
    return unary(input, erf_family.ndtri, lambda t: exp(ndtri(t) ** 2 / 2) * SQRT_2PI)


def log_ndtr(input):
    """log ndtr(x), finite far into the lower tail;  d/dx = pdf(x) / ndtr(x), computed as
    exp(-x**2/2 - log_ndtr(x)) / sqrt(2 pi)."""
    return unary(input, erf_family.log_ndtr,
                 lambda t: exp(-t * t / 2 - log_ndtr(t)) / SQRT_2PI)


def _xlog1py_array(x, y):
    """x log1p(y), and 0 where x == 0 unless y is NaN (as PyTorch)."""
    xp = get_array_module(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * xp.log1p(y)
    return xp.where((x == 0) & ~xp.isnan(y), 0, out).astype(out.dtype, copy=False)


def _xlog1py_derivatives(x, y, out, needs):
    """d/dx = log1p(y) (at x == 0 too, as PyTorch), d/dy = x / (1 + y)."""
    return (log1p(y) if needs[0] else None), (x / (1 + y) if needs[1] else None)


def xlog1py(input, other):
    """input * log1p(other), taken as 0 where input == 0."""
    return binary(input, other, _xlog1py_array, _xlog1py_derivatives)


def _zeta_derivatives(s, q, out, needs):
    """d/dq zeta(s, q) = -s zeta(s + 1, q); PyTorch has no derivative in s."""
    if needs[0]:
        raise RuntimeError("the derivative for 'zeta' with respect to the exponent (input) is "
                           "not implemented.")
    return None, (-s * zeta(s + 1, q) if needs[1] else None)


def zeta(input, other):
    """The Hurwitz zeta function sum_k (k + other)**-input (input > 1)."""
    return binary(input, other, gamma.zeta, _zeta_derivatives)


def gammaln(input):
    """torch.special.gammaln: lgamma."""
    return lgamma(input)


def multigammaln(input, p):
    """torch.special.multigammaln: mvlgamma."""
    return mvlgamma(input, p)


__all__ = ["lgamma", "digamma", "polygamma", "mvlgamma", "erfinv", "i0", "i0e", "i1", "i1e",
           "entr", "ndtr", "ndtri", "log_ndtr", "xlog1py", "zeta", "gammaln", "multigammaln"]
