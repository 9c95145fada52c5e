"""Activations beyond tanh/sigmoid: gelu (exact and tanh), leaky_relu, silu, relu, the
exponential family (elu, selu, celu), softplus and logsigmoid, the piecewise-linear ones
(hardtanh, relu6, threshold, hardsigmoid, hardswish, prelu), mish, glu, softsign, tanhshrink and
softmin, with PyTorch's signatures and ``inplace`` flags.

gelu and leaky_relu run fused kernels (``tinygen.kernels``); gelu's backward is itself an op
(``GeluBackward``, like ``TanhBackward`` in elementwise.py). Every backward is written in tensor
ops, so second derivatives (``create_graph=True``) stay exact. The rest are either a Function
whose forward is the numerically stable form (no exp of a large positive number, so no inf at
|x| = 1e4) or a composition of such ops.
"""

import math

from tinygen import kernels
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.autograd.inplace import modify
from tinygen.backend import get_array_module
from tinygen.errors import ArgumentError
from tinygen.ops.compare import isnan, le, where
from tinygen.ops.convert import constant_like, float_input
from tinygen.ops.elementwise import Relu, exp, sigmoid, tanh
from tinygen.ops.reduce import softmax
from tinygen.ops.shape import chunk, normalize_dim, reshape
from tinygen.tensor import Tensor

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715
_APPROXIMATIONS = ("none", "tanh")
_SELU_ALPHA = 1.6732632423543772848170429916717       # Klambauer et al. 2017, eq. 14
_SELU_SCALE = 1.0507009873554804934193349852946


class Gelu(ArrayFunction):
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


class GeluBackward(ArrayFunction):
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


class LeakyRelu(ArrayFunction):
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
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
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
    """x * sigmoid(x) (also called swish); composed, so its derivatives come for free.
    Complex inputs take the form x / (1 + exp(-x)), as PyTorch's."""
    if inplace:
        return modify(input, "silu_", silu)
    if input.dtype.kind == "c":
        return input / (exp(-input) + 1)
    return input * sigmoid(input)


class Elu(ArrayFunction):
    """y = scale x for x > 0, else scale alpha (exp(input_scale x) - 1): elu, selu and celu.
    dy/dx = scale, or input_scale (y + scale alpha) for x <= 0, written in the kept output."""
    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        xp = get_array_module(x)
        positive = ~(x <= 0)             # nan takes the linear slope, as PyTorch's elu_backward
        # exp only ever sees x <= 0, so x = 1e4 gives no inf in the unused branch
        negative = (scale * alpha) * xp.expm1(input_scale * xp.minimum(x, 0))
        y = xp.where(positive, scale * x, negative).astype(x.dtype, copy=False)
        ctx.constants = alpha, scale, input_scale
        ctx.save_for_backward(positive, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        positive, y = ctx.saved_tensors
        alpha, scale, input_scale = ctx.constants
        slope = where(positive, scale, (y + scale * alpha) * input_scale)
        return grad_y * slope, None, None, None


class Softplus(ArrayFunction):
    """y = log(1 + exp(beta x)) / beta, and y = x where beta x > threshold (PyTorch's switch to
    the asymptote); dy/dx = sigmoid(beta x), or 1 past the threshold.
    Computed as (max(z, 0) + log1p(exp(-|z|))) / beta with z = beta x, which never overflows."""
    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = get_array_module(x)
        z = beta * x
        linear = z > threshold
        soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
        ctx.beta = beta
        ctx.save_for_backward(x, linear)
        return xp.where(linear, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        x, linear = ctx.saved_tensors
        return where(linear, grad_y, grad_y * sigmoid(x * ctx.beta)), None, None


class Hardtanh(ArrayFunction):
    """y = clip(x, min_val, max_val);  dy/dx = 1 strictly inside, 0 elsewhere (as PyTorch's
    hardtanh_backward, so relu6 and hardsigmoid have gradient 0 at their kinks). At nan the
    gradient is 1 (PyTorch's hardtanh), or 0 with ``nan_passes=False`` (its hardsigmoid)."""
    @staticmethod
    def forward(ctx, x, min_val, max_val, nan_passes=True):
        inside = ~((x <= min_val) | (x >= max_val)) if nan_passes else \
            (x > min_val) & (x < max_val)
        ctx.save_for_backward(inside)
        return get_array_module(x).clip(x, min_val, max_val).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        (inside,) = ctx.saved_tensors
        return where(inside, grad_y, 0), None, None, None


class Threshold(ArrayFunction):
    """y = value where x <= threshold, else x (nan stays nan, as PyTorch's);  dy/dx = 0 where
    x <= threshold, else 1."""
    @staticmethod
    def forward(ctx, x, threshold, value):
        above = ~(x <= threshold)
        ctx.save_for_backward(above)
        return get_array_module(x).where(above, x, value).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        (above,) = ctx.saved_tensors
        return where(above, grad_y, 0), None, None


def _pointwise(name, function, input, inplace, *args):
    """``function(input, *args)`` for a float input, written into ``input`` when ``inplace``."""
    if inplace:
        return modify(input, name + "_", function, *args)
    return function(float_input(input), *args)


def _integer_pointwise(name, function, input, inplace, *args):
    """``function`` of an integer input in its own dtype, as PyTorch's clamping activations:
    the float arguments are truncated to integers first."""
    args = tuple(int(a) for a in args)
    if inplace:
        return modify(input, name + "_", function, *args)
    return function(input, *args)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, else alpha (exp(x) - 1) (Clevert et al. 2016)."""
    return _pointwise("elu", Elu.apply, input, inplace, float(alpha), 1.0, 1.0)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalizing constants of Klambauer et al. 2017."""
    return _pointwise("selu", Elu.apply, input, inplace, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)) (Barron 2017)."""
    if alpha == 0:
        raise ArgumentError("celu: alpha must not be 0 (the input is divided by it)")
    return _pointwise("celu", Elu.apply, input, inplace, float(alpha), 1.0, 1.0 / alpha)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold."""
    return Softplus.apply(float_input(input), float(beta), float(threshold))


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), finite for every x (no threshold, unlike softplus)."""
    return -Softplus.apply(-float_input(input), 1.0, math.inf)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clip(x, min_val, max_val); integer inputs keep their dtype (bounds truncated)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    keep = _integer_pointwise if input.dtype.kind in "iu" else _pointwise
    return keep("hardtanh", Hardtanh.apply, input, inplace, min_val, max_val)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value; integer inputs keep their dtype (threshold and value
    truncated)."""
    keep = _integer_pointwise if input.dtype.kind in "iu" else _pointwise
    return keep("threshold", Threshold.apply, input, inplace, threshold, value)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6, a piecewise-linear sigmoid (Howard et al. 2019)."""
    return _pointwise("hardsigmoid", _hardsigmoid, input, inplace)


def _hardsigmoid(x):
    return Hardtanh.apply(x + 3, 0.0, 6.0, False) / 6


def hardswish(input, inplace=False):
    """x relu6(x + 3) / 6 (Howard et al. 2019)."""
    return _pointwise("hardswish", _hardswish, input, inplace)


def _hardswish(x):
    # x itself above 3 and at nan (gradient 1 there, as PyTorch's); the product is taken of
    # a nan-free copy, so that the branch not taken sends back 0, not 0 * nan
    finite = where(isnan(x), 0.0, x)
    return where(le(x, 3), finite * _hardsigmoid(finite), x)


def mish(input, inplace=False):
    """x tanh(softplus(x)) (Misra 2019)."""
    return _pointwise("mish", _mish, input, inplace)


def _mish(x):
    return x * tanh(Softplus.apply(x, 1.0, 20.0))


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - tanh(input)


def prelu(input, weight):
    """x where x > 0, else a x, with learnable slopes ``weight``: one (shape () or (1,)) or one
    per channel (shape (C,), channels on dim 1 of the input)."""
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = {channels}.")
    if weight.numel() != 1:           # (C,) -> (C, 1, ..., 1), to broadcast against dim 1
        weight = reshape(weight, (channels,) + (1,) * (input.ndim - 2))
    elif weight.ndim > 0 and input.ndim == 0:
        weight = reshape(weight, ())
    return where(input > 0, input, weight * input)


def glu(input, dim=-1):
    """Gated linear unit (Dauphin et al. 2017): a * sigmoid(b), with a and b the two halves of
    ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = normalize_dim(dim, input.ndim, "glu")
    if input.shape[axis] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size "
                           f"{input.shape[axis]}")
    a, b = chunk(input, 2, axis)
    return a * sigmoid(b)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) over ``dim``, which (unlike PyTorch's deprecated implicit choice) must be
    given."""
    if dim is None:
        raise ValueError("softmin: dim is None; pass the dim to normalise over, e.g. dim=-1")
    return softmax(-input, dim, dtype)
