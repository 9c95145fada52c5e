"""Small functional layers of ``torch.nn.functional``: ``rrelu``, ``channel_shuffle``,
``local_response_norm`` (and ``cross_map_lrn2d``, the map of ``nn.CrossMapLRN2d``),
``lp_pool1d/2d``, ``pdist``, ``gumbel_softmax``, and the in-place activation forms ``relu_``,
``elu_``, ``leaky_relu_``, ``selu_``, ``celu_``, ``hardtanh_``, ``threshold_``, ``rrelu_``.

All are composed from differentiable ops (their derivatives of any order come for free). The
random draws (rrelu's slopes, gumbel noise) come from the device's generator, so
``tg.manual_seed`` repeats them, and are constants to backward.
"""

import math

import numpy as np

from tinygen.autograd.inplace import modify
from tinygen.backend import get_array_module
from tinygen.creation import random_array
from tinygen.ops.activation import celu, elu, hardtanh, leaky_relu, relu, selu
from tinygen.ops.activation import threshold as _threshold
from tinygen.ops.compare import where
from tinygen.ops.convert import float_input
from tinygen.ops.norm import vector_norm
from tinygen.ops.pad import pad
from tinygen.ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from tinygen.ops.reduce import softmax
from tinygen.tensor import Tensor


def _rrelu(input, lower, upper, training):
    if training:
        slopes = Tensor(random_array("uniform", tuple(input.shape), input.dtype, input.device,
                                     lower, upper))
        return where(Tensor(input.array >= 0), input, input * slopes)
    return leaky_relu(input, (lower + upper) / 2)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU (Xu et al. 2015): x for x >= 0, a x below, with a drawn uniformly
    from [lower, upper] per element when ``training``, else the fixed (lower + upper) / 2."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if inplace:
        return modify(input, "rrelu_", _rrelu, lower, upper, training)
    return _rrelu(float_input(input), lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """``rrelu`` written into ``input``."""
    return rrelu(input, lower, upper, training, inplace=True)


def relu_(input):
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, inplace=True)


for _f in (relu_, elu_, leaky_relu_, selu_, celu_, hardtanh_, threshold_):
    _f.__doc__ = f"``{_f.__name__[:-1]}`` written into ``input`` (PyTorch's in-place form)."


def channel_shuffle(input, groups):
    """Interleave the channels of ``groups`` groups (ShuffleNet): (N, g * k, ...) is read as
    (N, g, k, ...) and written as (N, k, g, ...)."""
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    N, C, *rest = input.shape
    if C % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {C} channels "
                           f"and {groups} groups.")
    return (input.reshape(N, groups, C // groups, *rest).transpose(1, 2)
            .reshape(N, C, *rest))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha / size * sum of x^2 over ``size`` neighbouring channels)^beta (AlexNet),
    the window centred as PyTorch's (size // 2 channels before, (size - 1) // 2 after)."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions)")
    if input.numel() == 0:
        return input
    input = float_input(input)
    N, C = input.shape[:2]
    square = (input * input).reshape(N, C, -1)
    padded = pad(square, (0, 0, size // 2, (size - 1) // 2))
    window = padded[:, 0:C]
    for j in range(1, size):
        window = window + padded[:, j:j + C]
    div = (window.reshape(input.shape) * (alpha / size) + k) ** beta
    return input / div


def _cross_map_windows(channels, size):
    """The (C, C) 0/1 matrix whose row c marks the channels that ``CrossMapLRN2d`` sums for
    channel c, replaying PyTorch's running sum (nn/modules/_functions.py): the window is the
    centred one of 2 * pre_pad - 1 channels, except that channel 0, added first, is never
    subtracted again, so it stays in every window (PyTorch's quirk, kept for equal values)."""
    pre_pad = int((size - 1) / 2 + 1)
    window = np.zeros((channels, channels))
    window[0, :min(pre_pad, channels)] = 1
    for c in range(1, channels):
        window[c] = window[c - 1]
        if c < channels - pre_pad + 1:
            window[c, c + pre_pad - 1] += 1
        if c > pre_pad:
            window[c, c - pre_pad] -= 1
    return window


def cross_map_lrn2d(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """``nn.CrossMapLRN2d``'s map: x * (k + alpha / size * sum of x^2 over the channel
    window)^-beta for 4-D input, with PyTorch's windows (see ``_cross_map_windows``)."""
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
    input = float_input(input)
    xp = get_array_module(input.array)
    N, C, H, W = input.shape
    window = Tensor(xp.asarray(_cross_map_windows(C, size), dtype=input.dtype))
    sums = window @ (input * input).reshape(N, C, H * W)                    # (N, C, H*W)
    scale = sums.reshape(input.shape) * (alpha / size) + k
    return input * scale ** (-beta)


def lp_pool(input, norm_type, window, avg_pool, max_pool, kernel_size, stride, ceil_mode):
    """PyTorch's Lp pool in any rank: ``avg_pool`` of x^p times the ``window`` size, to the
    power 1/p (so a window's negative sum gives nan for fractional 1/p, as there); p = +-inf
    is the max (min) of |x| over each window, through ``max_pool``."""
    if norm_type in (math.inf, -math.inf):
        sign = 1 if norm_type > 0 else -1
        return sign * max_pool(sign * input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    # sign(s) relu(|s|) is s, but with a zero gradient where a window's sum s is 0, where
    # s^(1/p) has an infinite one (PyTorch's composition, kept for equal gradients)
    return (out.sign() * relu(out.abs()) * window) ** (1.0 / norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each window)^(1/p), as PyTorch's (see ``lp_pool``)."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return lp_pool(input, norm_type, kh * kw, avg_pool2d, max_pool2d, kernel_size, stride,
                   ceil_mode)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``lp_pool2d``'s 1-D form for a signal (N, C, L) or (C, L)."""
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    return lp_pool(input, norm_type, k, avg_pool1d, max_pool1d, kernel_size, stride, ceil_mode)


def pdist(input, p=2):
    """The p-norm distances between all pairs of rows i < j of ``input`` (N, M), in the row-major
    order of the upper triangle: N (N - 1) / 2 values."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    xp = get_array_module(input.array)
    i, j = xp.triu_indices(input.shape[0], 1)
    return vector_norm(input[i] - input[j], p, dim=-1)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) with g drawn from Gumbel(0, 1) (Jang et al. 2016). With
    ``hard``, the one-hot of its argmax in the forward pass and the soft sample's gradient
    (straight-through)."""
    logits = float_input(logits)
    uniform = random_array("uniform", tuple(logits.shape), logits.dtype, logits.device)
    xp = get_array_module(uniform)
    gumbels = -xp.log(-xp.log1p(-uniform))                  # -log(E), E ~ Exp(1)
    y_soft = softmax((logits + Tensor(gumbels.astype(logits.dtype))) / tau, dim)
    if not hard:
        return y_soft
    axis = dim % logits.ndim
    index = xp.expand_dims(y_soft.array.argmax(axis=axis), axis)
    classes = xp.arange(logits.shape[axis]).reshape((-1,) + (1,) * (logits.ndim - 1 - axis))
    y_hard = (index == classes).astype(y_soft.dtype)
    return Tensor(y_hard) - y_soft.detach() + y_soft
