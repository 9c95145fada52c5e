"""Trigonometric and hyperbolic functions and their inverses (tan, asin, acos, atan, sinh, cosh,
asinh, acosh, atanh), and the angle conversions deg2rad and rad2deg.

Each is an xp ufunc with its derivative written in Tensor ops (special.unary), so it can be
differentiated again. Integer and bool inputs give the default float dtype, as in PyTorch.
"""

import math

from tinygen.ops.convert import float_input
from tinygen.ops.elementwise import cos, rsqrt
from tinygen.ops.special import unary


def tan(x):
    """tan(x);  d/dx = 1 / cos(x)**2."""
    return unary(x, "tan", lambda t: 1 / (cos(t) * cos(t)))


def asin(x):
    """arcsin(x), in [-pi/2, pi/2];  d/dx = 1 / sqrt(1 - x**2)."""
    return unary(x, "arcsin", lambda t: rsqrt(1 - t * t))


def acos(x):
    """arccos(x), in [0, pi];  d/dx = -1 / sqrt(1 - x**2)."""
    return unary(x, "arccos", lambda t: -rsqrt(1 - t * t))


def atan(x):
    """arctan(x), in (-pi/2, pi/2);  d/dx = 1 / (1 + x**2)."""
    return unary(x, "arctan", lambda t: 1 / (1 + t * t))


def sinh(x):
    """sinh(x);  d/dx = cosh(x)."""
    return unary(x, "sinh", cosh)


def cosh(x):
    """cosh(x);  d/dx = sinh(x)."""
    return unary(x, "cosh", sinh)


def asinh(x):
    """arsinh(x) = log(x + sqrt(x**2 + 1));  d/dx = 1 / sqrt(x**2 + 1)."""
    return unary(x, "arcsinh", lambda t: rsqrt(t * t + 1))


def acosh(x):
    """arcosh(x) for x >= 1;  d/dx = 1 / sqrt(x**2 - 1)."""
    return unary(x, "arccosh", lambda t: rsqrt(t * t - 1))


def atanh(x):
    """artanh(x) for |x| < 1;  d/dx = 1 / (1 - x**2)."""
    return unary(x, "arctanh", lambda t: 1 / (1 - t * t))


def deg2rad(x):
    """x degrees in radians: x * pi / 180."""
    return float_input(x) * (math.pi / 180)


def rad2deg(x):
    """x radians in degrees: x * 180 / pi."""
    return float_input(x) * (180 / math.pi)
