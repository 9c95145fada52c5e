"""Activations beyond tanh/sigmoid: gelu (exact and tanh), leaky_relu, silu, and relu with
PyTorch's ``inplace`` flag.

Forward and first backward run the fused kernels (``tinygen.kernels``). Each backward is itself
an op (``GeluBackward``, like ``TanhBackward`` in elementwise.py) whose own backward is written
in tensor ops, so second derivatives (``create_graph=True``) stay exact.
"""

import math

from tinygen import kernels
from tinygen.autograd.function import Function
from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.autograd.inplace import modify
from tinygen.backend import get_array_module
from tinygen.ops.convert import constant_like, float_input
from tinygen.ops.elementwise import Relu, exp, sigmoid, tanh
from tinygen.tensor import Tensor

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715
_APPROXIMATIONS = ("none", "tanh")


class Gelu(Function):
    """y = x Phi(x) (Phi the normal CDF) or its tanh approximation;  dy/dx = gelu'(x)."""
    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        return kernels.gelu(x, approximate)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return GeluBackward.apply(grad_y, x, ctx.approximate), None


class GeluBackward(Function):
    """z = g gelu'(x), one fused op;  dz/dg = gelu'(x),  dz/dx = g gelu''(x)."""
    @staticmethod
    def forward(ctx, g, x, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(g, x)
        return kernels.gelu_backward(x, g, approximate)

    @staticmethod
    def backward(ctx, grad_z):
        g, x = ctx.saved_tensors
        grad_g = grad_x = None
        if ctx.needs_input_grad[0]:
            grad_g = GeluBackward.apply(grad_z, x, ctx.approximate)
        if ctx.needs_input_grad[1]:
            grad_x = grad_z * g * _gelu_second_derivative(x, ctx.approximate)
        return grad_g, grad_x, None


def _gelu_second_derivative(x, approximate):
    """gelu''(x) in tensor ops (so it can be differentiated once more).

    Exact: d/dx [Phi(x) + x phi(x)] = 2 phi(x) - x^2 phi(x) = phi(x) (2 - x^2).
    Tanh form, with u = k (x + a x^3), t = tanh(u): gelu = x (1 + t) / 2, so
    gelu'' = (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2), u' = k (1 + 3 a x^2), u'' = 6 a k x.
    """
    if approximate == "none":
        return exp(x * x * -0.5) * _INV_SQRT_2PI * (2 - x * x)
    t = tanh((x + x * x * x * _GELU_CUBIC) * _SQRT_2_OVER_PI)
    du = (x * x * (3 * _GELU_CUBIC) + 1) * _SQRT_2_OVER_PI
    d2u = x * (6 * _GELU_CUBIC * _SQRT_2_OVER_PI)
    return (1 - t * t) * (du + x * (d2u - 2 * t * du * du) * 0.5)


class LeakyRelu(Function):
    """y = x where x > 0, else negative_slope * x;  dy/dx = 1 or negative_slope (at 0 too)."""
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        ctx.save_for_backward(x)
        return kernels.leaky_relu(x, negative_slope)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        slope = ctx.negative_slope
        if not is_grad_enabled():
            return Tensor(kernels.leaky_relu_backward(x.array, grad_y.array, slope)), None
        # The slope is a constant mask of x, so this product is differentiable in grad_y.
        xp = get_array_module(x.array)
        return grad_y * constant_like(xp.where(x.array > 0, 1.0, slope), grad_y), None


def gelu(input, approximate="none"):
    """Gaussian Error Linear Unit: x Phi(x), or with ``approximate='tanh'``
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate not in _APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(float_input(input), approximate)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """max(0, x) + negative_slope * min(0, x); ``inplace=True`` writes into ``input``."""
    if inplace:
        return modify(input, "leaky_relu_", LeakyRelu.apply, float(negative_slope))
    return LeakyRelu.apply(float_input(input), float(negative_slope))


def relu(input, inplace=False):
    """max(x, 0), with PyTorch's ``inplace`` flag (``tg.relu``/``x.relu()`` are the plain op)."""
    if inplace:
        return modify(input, "relu_", Relu.apply)
    return Relu.apply(input)


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish); composed, so its derivatives come for free."""
    if inplace:
        return modify(input, "silu_", silu)
    return input * sigmoid(input)
