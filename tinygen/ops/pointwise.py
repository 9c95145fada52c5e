"""More elementwise math: erf, reciprocal, rounding (floor, ceil, round, trunc), rounded division
(floor_divide, remainder, fmod, div with a rounding_mode), one-sided clamps and lerp.

The rounding ops are step functions: their derivative is 0 almost everywhere, and PyTorch
returns 0 everywhere (the jumps are ignored), so these do too. ``floor_divide`` has no derivative
in PyTorch at all, so its result is outside the graph. Integer division (and remainder) by zero
raises, as in PyTorch.
"""

import math

import numpy as np

from tinygen import device_checks
from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.compare import Step, clamp
from tinygen.ops.convert import binary_operands, clone, constant_like, float_input
from tinygen.ops.elementwise import IEEE_QUIET, exp
from tinygen.tensor import Tensor

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
def special_function(name):
    """The array function for libm's ``math.<name>`` (erf, erfc): element by element on a NumPy
    array (NumPy has none), cupyx.scipy.special's on a CuPy one (imported lazily); in the
    array's dtype."""
    host = np.frompyfunc(getattr(math, name), 1, 1)

    def apply(x):
        if isinstance(x, np.ndarray):
            return np.asarray(host(x), dtype=x.dtype)
        import cupyx.scipy.special
        return getattr(cupyx.scipy.special, name)(x)
    return apply


_erf_array = special_function("erf")


class Erf(ArrayFunction):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt;  dy/dx = 2/sqrt(pi) exp(-x^2)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf_array(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * exp(-x * x) * TWO_OVER_SQRT_PI


def _step(x, rounder):
    """Integer and bool tensors are already whole: a copy, in their own dtype (as PyTorch)."""
    if x.dtype.kind != "f":
        return clone(x)
    return Step.apply(rounder, x)


class Remainder(ArrayFunction):
    """y = a - b floor(a / b), with the sign of b (Python's %);  dy/da = 1, dy/db = -floor(a / b).
    The quotient is a step function (its own derivative is 0), so it is saved as a constant."""
    @staticmethod
    def forward(ctx, a, b):
        return _remainder(ctx, a, b, "floor")

    @staticmethod
    def backward(ctx, grad_y):
        grad_b = None
        if ctx.needs_input_grad[1]:
            (quotient,) = ctx.saved_tensors
            grad_b = -grad_y * constant_like(quotient.array, grad_y)
        return grad_y, grad_b


class Fmod(Remainder):
    """y = a - b trunc(a / b), with the sign of a (C's fmod);  dy/da = 1, dy/db = -trunc(a / b).
    The backward is Remainder's, with this quotient."""
    @staticmethod
    def forward(ctx, a, b):
        return _remainder(ctx, a, b, "trunc")


def _remainder(ctx, a, b, rounding_mode):
    """What is left of a after dividing by b with the quotient rounded by ``rounding_mode``; the
    quotient is kept for b's gradient when b needs one."""
    if ctx.needs_input_grad[1]:
        ctx.save_for_backward(_quotient(a, b, rounding_mode))
    xp = get_array_module(_check_divisor(a, b))
    with np.errstate(**IEEE_QUIET):                 # x % 0.0 is NaN, quietly
        return xp.remainder(a, b) if rounding_mode == "floor" else xp.fmod(a, b)


def _quotient(a, b, rounding_mode):
    """a / b rounded down ('floor', as Python's //) or toward zero ('trunc'), as PyTorch rounds
    it; a and b are arrays or numbers, of the result's dtype, so integers divide exactly."""
    array = _check_divisor(a, b)
    xp = get_array_module(array)
    with np.errstate(**IEEE_QUIET):                 # x // 0.0 is ±inf or NaN, quietly
        if rounding_mode == "floor":
            return xp.floor_divide(a, b)
        if array.dtype.kind == "f":
            return xp.trunc(a / b)
    return (a - xp.fmod(a, b)) // b                 # exact: a - fmod(a, b) is a multiple of b


def _check_divisor(a, b):
    """Whichever of a and b is an array (the other may be a Python number), after checking the
    divisor b: integer division by zero is an error, as on PyTorch's CPU (NumPy warns and gives
    0), while floats give inf or nan. An empty a divides nothing, so it passes. On a GPU the
    verdict is read later (device_checks)."""
    array = a if hasattr(a, "dtype") else b
    if array.dtype.kind not in "iu" or not getattr(a, "size", 1):
        return array
    if not hasattr(b, "dtype"):
        if b == 0:
            raise _zero_division()
    else:
        device_checks.check((b == 0).any(), _zero_division, op="integer division")
    return array


def _zero_division():
    return RuntimeError("ZeroDivisionError: integer division or modulo by zero")


def erf(x):
    return Erf.apply(float_input(x))


def reciprocal(x):
    """1 / x; integer tensors give the default float dtype, as in PyTorch."""
    return 1 / float_input(x)


def floor(x):
    if x.dtype.kind == "b":
        raise NotImplementedError("floor is not implemented for bool tensors")
    return _step(x, lambda a: get_array_module(a).floor(a))


def ceil(x):
    return _step(x, lambda a: get_array_module(a).ceil(a))


def trunc(x):
    return _step(x, lambda a: get_array_module(a).trunc(a))


def round(x, decimals=0):
    """Round half to even (as PyTorch and NumPy), to ``decimals`` places."""
    return _step(x, lambda a: get_array_module(a).round(a, decimals))


def remainder(input, other):
    """input % other, with the sign of other (Python's %, torch.remainder); fmod takes the sign
    of input."""
    _refuse_bools("remainder", input, other)
    return Remainder.apply(*binary_operands(input, other))


def fmod(input, other):
    """The remainder of input / other rounded toward zero, with the sign of input (C's fmod)."""
    _refuse_bools("fmod", input, other)
    return Fmod.apply(*binary_operands(input, other))


def floor_divide(input, other):
    """input // other, rounded down as Python's //. Outside the graph: PyTorch defines no
    derivative for it (div with rounding_mode='floor' has a zero gradient)."""
    _refuse_bools("floor_divide", input, other)
    a, b = (t.array if isinstance(t, Tensor) else t for t in binary_operands(input, other))
    return Tensor(_quotient(a, b, "floor"))


def _refuse_bools(name, input, other):
    """PyTorch implements no remainder or floor division of two bools (tensors or a tensor and
    a Python bool)."""
    if all(isinstance(t, (bool, np.bool_)) or isinstance(t, Tensor) and t.dtype.kind == "b"
           for t in (input, other)):
        raise NotImplementedError(f"{name} is not implemented for bool tensors")


def rounded_div(input, other, rounding_mode):
    """div(input, other, rounding_mode='trunc' or 'floor'): the quotient rounded, in the common
    dtype of the operands (integers stay integers), with gradient 0 as in PyTorch."""
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {rounding_mode!r}")
    _refuse_bools("div", input, other)
    return Step.apply(lambda a, b: _quotient(a, b, rounding_mode), *binary_operands(input, other))


def clamp_min(x, min):
    return clamp(x, min=min)


def clamp_max(x, max):
    return clamp(x, max=max)


def lerp(input, end, weight):
    """input + weight * (end - input); ``weight`` is a number or a tensor (both broadcast)."""
    return input + weight * (end - input)
