"""More elementwise math: expm1, log2, log10, exp2, erfc, logit, sinc, frac, nan_to_num,
hardshrink, softshrink, the two-input atan2, hypot, logaddexp, logaddexp2, xlogy, float_power,
copysign, ldexp, fmax, fmin, and the non-differentiable sgn, heaviside and isclose.

Integer and bool inputs of the float ops give the default float dtype, as in PyTorch.
"""

import math

import numpy as np

from tinygen import dtypes
from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.compare import clamp, ge, isfinite, isnan, le, logical_or, sign, where
from tinygen.ops.complex_ops import conj
from tinygen.ops.convert import binary_operands, cast, constant_like, float_input
from tinygen.ops.elementwise import IEEE_QUIET, abs, cos, exp, log, log1p
from tinygen.ops.pointwise import special_function, trunc
from tinygen.tensor import Tensor

LN2, LN10 = math.log(2), math.log(10)
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


class Unary(ArrayFunction):
    """y = ``fn(x)`` for an array function; dy/dx = ``derivative(x)``, a function of Tensors (so
    the backward can be differentiated again)."""
    @staticmethod
    def forward(ctx, x, fn, derivative):
        ctx.derivative = derivative
        ctx.save_for_backward(x)
        with np.errstate(**IEEE_QUIET):               # log2(0) = -inf, logit(2) = NaN: quietly
            return fn(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * ctx.derivative(x), None, None


def unary(x, fn, derivative):
    """Apply ``fn`` (an array function, or the name of an xp ufunc) to x (promoted to float) with
    dy/dx = ``derivative(x)``."""
    x = float_input(x)
    if isinstance(fn, str):
        fn = getattr(get_array_module(x.array), fn)
    return Unary.apply(x, fn, derivative)


def expm1(x):
    """exp(x) - 1, accurate for small x;  d/dx = exp(x)."""
    return unary(x, "expm1", exp)


def exp2(x):
    """2**x;  d/dx = 2**x ln 2."""
    return unary(x, "exp2", lambda t: exp2(t) * LN2)


def log2(x):
    """log2(x);  d/dx = 1 / (x ln 2)."""
    return unary(x, "log2", lambda t: 1 / (t * LN2))


def log10(x):
    """log10(x);  d/dx = 1 / (x ln 10)."""
    return unary(x, "log10", lambda t: 1 / (t * LN10))


_erfc_array = special_function("erfc")


def erfc(x):
    """1 - erf(x), accurate where erf(x) is near 1;  d/dx = -2/sqrt(pi) exp(-x**2)."""
    return unary(x, _erfc_array, lambda t: exp(-t * t) * -TWO_OVER_SQRT_PI)


def logit(x, eps=None):
    """log(x / (1 - x)); with ``eps`` x is first clamped to [eps, 1 - eps] (no gradient
    outside, as PyTorch)."""
    x = float_input(x)
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    return log(x) - log1p(-x)


def _sinc_derivative(x):
    """d sinc(x)/dx = (cos(pi x) - sinc(x)) / x, and 0 at x = 0 (sinc is even there)."""
    zero = Tensor(x.array == 0)
    safe = where(zero, 1, x)
    return where(zero, 0, (cos(safe * math.pi) - sinc(safe)) / safe)


def sinc(x):
    """sin(pi x) / (pi x), and 1 at 0 (the normalized sinc). The second derivative at exactly 0
    is not the true -pi**2 / 3 but 0 (the first derivative is masked there)."""
    return unary(x, "sinc", _sinc_derivative)


def frac(x):
    """x - trunc(x), keeping x's sign;  d/dx = 1."""
    return x - trunc(x)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with NaN, +inf and -inf replaced (by 0 and the dtype's largest and smallest finite
    values unless given); the replaced elements get no gradient, as in PyTorch."""
    if x.dtype.kind != "f":
        return x.clone()
    xp = get_array_module(x.array)
    filled = Tensor(xp.nan_to_num(x.array, nan=nan, posinf=posinf, neginf=neginf))
    return where(isfinite(x), x, filled)


def hardshrink(input, lambd=0.5):
    """0 where |x| <= lambd, else x (nan stays nan, as PyTorch's);  d/dx = 0 inside
    [-lambd, lambd], 1 elsewhere."""
    return where(le(abs(input), lambd), 0, input)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between (lambd >= 0)."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be "
                           f"{lambd}")
    # x - lambd sign(x) outside, so that nan stays nan with gradient 1, as PyTorch's
    return where(le(abs(input), lambd), 0, input - lambd * sign(input))


def sgn(x):
    """sign(x) for real tensors (complex tensors are not supported); no gradient."""
    return sign(x)


def _tensor_pair(a, b, float_result=True):
    """a and b as two Tensors of their common (with ``float_result``, floating) dtype; numbers
    become 0-d tensors on the other operand's device."""
    a, b = binary_operands(a, b, float_result=float_result)
    like = a if isinstance(a, Tensor) else b
    xp = get_array_module(like.array)
    return tuple(t if isinstance(t, Tensor) else Tensor(xp.asarray(t, dtype=like.dtype))
                 for t in (a, b))


class Binary(ArrayFunction):
    """y = ``fn(a, b)`` for an array function; the gradients are ``derivatives(a, b, y)``, a
    pair of Tensors (so the backward can be differentiated again)."""
    @staticmethod
    def forward(ctx, a, b, fn, derivatives):
        y = fn(a, b)
        ctx.derivatives = derivatives
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        a, b, y = ctx.saved_tensors
        da, db = ctx.derivatives(a, b, y, ctx.needs_input_grad)
        return (grad_y * da if da is not None else None,
                grad_y * db if db is not None else None, None, None)


def binary(a, b, fn, derivatives):
    """Apply ``fn`` (an array function, or the name of an xp ufunc) to a and b (promoted to
    their common float dtype), with the gradients ``derivatives(a, b, y, needs_input_grad)``."""
    a, b = _tensor_pair(a, b)
    if isinstance(fn, str):
        fn = getattr(get_array_module(a.array), fn)
    return Binary.apply(a, b, fn, derivatives)


def _atan2_derivatives(a, b, y, needs):
    """d atan2(a, b) = (b da - a db) / (a**2 + b**2)."""
    r2 = a * a + b * b
    return (b / r2 if needs[0] else None), (-a / r2 if needs[1] else None)


def atan2(input, other):
    """The angle of the point (other, input), in (-pi, pi]."""
    return binary(input, other, "arctan2", _atan2_derivatives)


def hypot(input, other):
    """sqrt(input**2 + other**2) without overflow;  d/da = a / y, d/db = b / y."""
    return binary(input, other, "hypot", lambda a, b, y, needs: (
        a / y if needs[0] else None, b / y if needs[1] else None))


def _logaddexp_array(a, b):
    """log(exp(a) + exp(b)); for complex inputs as PyTorch: m + log1p(exp(n - m)), where m is
    the operand of larger real part (NumPy's ufunc is real only)."""
    xp = get_array_module(a)
    if a.dtype.kind != "c":
        return xp.logaddexp(a, b)
    first = a.real >= b.real
    big, small = xp.where(first, a, b), xp.where(first, b, a)
    with np.errstate(**IEEE_QUIET):
        return big + xp.log1p(xp.exp(small - big))


class LogAddExp(Binary):
    """logaddexp's Binary: its derivatives are conjugated, so it is right for complex inputs
    (registered in ops/complex_support.py)."""


def _logaddexp_derivatives(a, b, y, needs):
    """d/da = exp(a - y), d/db = exp(b - y), conjugated for complex inputs (PyTorch's
    convention, as every complex gradient in tinygen)."""
    return (conj(exp(a - y)) if needs[0] else None), (conj(exp(b - y)) if needs[1] else None)


def logaddexp(input, other):
    """log(exp(a) + exp(b)) without overflow, for real and complex inputs."""
    return LogAddExp.apply(*_tensor_pair(input, other), _logaddexp_array, _logaddexp_derivatives)


def logaddexp2(input, other):
    """log2(2**a + 2**b);  d/da = 2**(a - y), d/db = 2**(b - y)."""
    return binary(input, other, "logaddexp2", lambda a, b, y, needs: (
        exp2(a - y) if needs[0] else None, exp2(b - y) if needs[1] else None))


def _xlogy_array(x, y):
    """x log(y), and 0 where x == 0 unless y is NaN (as PyTorch)."""
    xp = get_array_module(x)
    with np.errstate(divide="ignore", invalid="ignore"):       # log(0) = -inf, then 0 * -inf
        out = x * xp.log(y)
    return xp.where((x == 0) & ~xp.isnan(y), 0, out).astype(out.dtype, copy=False)


def _xlogy_derivatives(x, y, out, needs):
    """d/dx = log(y) where x != 0 (0 where x == 0, as PyTorch), d/dy = x / y."""
    dx = xlogy(Tensor(x.array != 0), y) if needs[0] else None
    return dx, (x / y if needs[1] else None)


def xlogy(input, other):
    """input * log(other), taken as 0 where input == 0 (so 0 log 0 = 0)."""
    return binary(input, other, _xlogy_array, _xlogy_derivatives)


def float_power(input, exponent):
    """input ** exponent computed in float64, or complex128 when either is complex (the
    result's dtype, as in PyTorch)."""
    complex_ = any(t.dtype.kind == "c" if isinstance(t, Tensor) else isinstance(t, complex)
                   for t in (input, exponent))
    dtype, number = (dtypes.complex128, complex) if complex_ else (dtypes.float64, float)
    input, exponent = (cast(t, dtype) if isinstance(t, Tensor) else number(t)
                       for t in (input, exponent))
    return input ** exponent


def _copysign_derivatives(a, b, y, needs):
    """d/da = y / a = +-1 (0 where a == 0, as PyTorch), d/db = 0; both constants."""
    xp = get_array_module(a.array)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = xp.where(a.array == 0, 0, y.array / a.array)
    return (constant_like(ratio, a) if needs[0] else None,
            constant_like(xp.zeros(b.shape), b) if needs[1] else None)


def copysign(input, other):
    """|input| with the sign of other (of -0.0 too); the result is floating point."""
    return binary(input, other, "copysign", _copysign_derivatives)


def ldexp(input, other):
    """input * 2**other, in floating point."""
    input, other = _tensor_pair(input, other)
    return input * exp2(other)


def fmax(input, other):
    """The elementwise maximum, ignoring NaN (NaN only where both are NaN). The gradient goes
    to input where input >= other or other is NaN, else to other, as in PyTorch."""
    input, other = _tensor_pair(input, other, float_result=False)
    return where(logical_or(ge(input, other), isnan(other)), input, other)


def fmin(input, other):
    """The elementwise minimum, ignoring NaN; the gradient is routed as fmax's."""
    input, other = _tensor_pair(input, other, float_result=False)
    return where(logical_or(le(input, other), isnan(other)), input, other)


def heaviside(input, values):
    """0 where input < 0, 1 where input > 0, ``values`` where input == 0 (no gradient)."""
    if not isinstance(values, Tensor) or input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different "
                           f"dtypes: input {input.dtype}, values "
                           f"{getattr(values, 'dtype', type(values).__name__)}")
    xp = get_array_module(input.array)
    return Tensor(xp.heaviside(input.array, values.array).astype(input.dtype, copy=False))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol |other| elementwise, as a bool tensor (broadcasts)."""
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol < 0:
            raise RuntimeError(f"isclose(): {name} must be greater than or equal to zero, "
                               f"but got {tol}")
    a, b = binary_operands(input, other)
    like = a if isinstance(a, Tensor) else b
    arrays = [t.array if isinstance(t, Tensor) else t for t in (a, b)]
    return Tensor(get_array_module(like.array).isclose(*arrays, rtol=rtol, atol=atol,
                                                       equal_nan=equal_nan))

