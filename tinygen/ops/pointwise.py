"""More elementwise math: erf, reciprocal, rounding (floor, ceil, round, trunc), one-sided clamps
and lerp.

The rounding ops are step functions: their derivative is 0 almost everywhere, and PyTorch
returns 0 everywhere (the jumps are ignored), so these do too.
"""

import math

import numpy as np

from tinygen.autograd.function import Function
from tinygen.backend import get_array_module
from tinygen.ops.compare import clamp
from tinygen.ops.convert import clone, float_input
from tinygen.ops.elementwise import exp
from tinygen.tensor import Tensor

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_host_erf = np.frompyfunc(math.erf, 1, 1)   # libm's erf, element by element (NumPy has none)


def _erf_array(x):
    """erf of a numpy or cupy array, in its dtype (CuPy's special functions imported lazily)."""
    if isinstance(x, np.ndarray):
        return np.asarray(_host_erf(x), dtype=x.dtype)
    from cupyx.scipy.special import erf
    return erf(x)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt;  dy/dx = 2/sqrt(pi) exp(-x^2)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf_array(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * exp(-x * x) * TWO_OVER_SQRT_PI


class Step(Function):
    """y = a rounding of x (``rounder(array)``);  dy/dx = 0, as PyTorch ignores the jumps."""
    @staticmethod
    def forward(ctx, x, rounder):
        return rounder(x)

    @staticmethod
    def backward(ctx, grad_y):
        xp = get_array_module(grad_y.array)
        return Tensor(xp.zeros(grad_y.shape, dtype=grad_y.dtype)), None


def _step(x, rounder):
    """Integer and bool tensors are already whole: a copy, in their own dtype (as PyTorch)."""
    if x.dtype.kind != "f":
        return clone(x)
    return Step.apply(x, rounder)


def erf(x):
    return Erf.apply(float_input(x))


def reciprocal(x):
    """1 / x; integer tensors give the default float dtype, as in PyTorch."""
    return 1 / float_input(x)


def floor(x):
    return _step(x, lambda a: get_array_module(a).floor(a))


def ceil(x):
    return _step(x, lambda a: get_array_module(a).ceil(a))


def trunc(x):
    return _step(x, lambda a: get_array_module(a).trunc(a))


def round(x, decimals=0):
    """Round half to even (as PyTorch and NumPy), to ``decimals`` places."""
    return _step(x, lambda a: get_array_module(a).round(a, decimals))


def clamp_min(x, min):
    return clamp(x, min=min)


def clamp_max(x, max):
    return clamp(x, max=max)


def lerp(input, end, weight):
    """input + weight * (end - input); ``weight`` is a number or a tensor (both broadcast)."""
    return input + weight * (end - input)
