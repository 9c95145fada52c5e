"""3-D pooling: ``max_pool3d`` and ``avg_pool3d``, with the windows read by the N-d im2col.

As pool.py does in 2-D: every plane (N*C of them) is a one-channel volume, padded first (-inf
for max, zeros for average) so that ceil_mode's extra windows see padding too; max picks each
window's first argmax (WindowPick, whose adjoint places the gradient back), average divides
each window's sum by PyTorch's divisor.
"""

import math

import numpy as np

from tinygen.backend import get_array_module
from tinygen.errors import ArgumentError
from tinygen.ops.conv3d import _flat_pad
from tinygen.ops.conv_nd import Im2colNd
from tinygen.ops.pad import pad
from tinygen.ops.pool import (WindowPick, _pool_geometry, _window_counts, lowest,
                              window_means)
from tinygen.tensor import Tensor


def _windows(input, kernel, stride, padding, dilation, extra, value):
    """im2col of every plane of the padded input: (planes, prod(kernel), prod(output size))."""
    padded = pad(input, _flat_pad([(p, p + e) for p, e in zip(padding, extra)]), value=value)
    n = len(kernel)
    planes = padded.reshape(-1, 1, *padded.shape[-n:])
    return Im2colNd.apply(planes, kernel, stride, (0,) * n, dilation)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The max of each window of (N, C, D, H, W) or (C, D, H, W) input (padding counts as
    -inf). With ``return_indices``, also each max's flat position (d*H + h)*W + w in its plane."""
    op = "max_pool3d"
    kernel, stride, padding, dilation, size, extra = _pool_geometry(
        op, input, kernel_size, stride, padding, dilation, ceil_mode, 3)
    cols = _windows(input, kernel, stride, padding, dilation, extra, lowest(input))
    xp = get_array_module(cols.array)
    argmax = xp.argmax(cols.array, axis=1)                                     # (planes, L)
    out = WindowPick.apply(cols, argmax).reshape(*input.shape[:-3], *size)
    if not return_indices:
        return out
    offsets = xp.unravel_index(argmax, kernel)                 # each max's offset in its window
    starts = xp.unravel_index(xp.arange(math.prod(size)), size)   # each window's position
    coords = [o * s - p + i * d for o, i, s, p, d in zip(starts, offsets, stride, padding,
                                                          dilation)]
    flat = xp.ravel_multi_index(tuple(coords), tuple(input.shape[-3:]))
    return out, Tensor(flat.astype(np.int64).reshape(out.shape))


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool3d`` that always returns (values, flat per-plane indices), as PyTorch's."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window of (N, C, D, H, W) or (C, D, H, W) input. The divisor is the
    window's size within the zero-padded input (count_include_pad=True) or its number of input
    positions, or ``divisor_override``."""
    op = "avg_pool3d"
    if divisor_override is not None and divisor_override == 0:
        raise ArgumentError(f"{op}: divisor must be not zero")
    kernel, stride, padding, _, size, extra = _pool_geometry(
        op, input, kernel_size, stride, padding, 1, ceil_mode, 3)
    if any(m < k for m, k in zip(input.shape[-3:], kernel)):   # PyTorch's check, padding aside
        (t, h, w), (kt, kh, kw) = input.shape[-3:], kernel
        raise RuntimeError(f"{op}: input image (T: {t} H: {h} W: {w}) smaller than kernel size "
                           f"(kT: {kt} kH: {kh} kW: {kw})")
    cols = _windows(input, kernel, stride, padding, (1, 1, 1), extra, 0.0)
    divisor = divisor_override
    if divisor is None:
        xp = get_array_module(cols.array)
        d, h, w = [_window_counts(xp, m, k, s, p, o, count_include_pad)
                   for m, k, s, p, o in zip(input.shape[-3:], kernel, stride, padding, size)]
        counts = d[:, None, None] * h[None, :, None] * w[None, None, :]
        divisor = Tensor(counts.reshape(-1).astype(input.dtype))
    return window_means(cols, divisor).reshape(*input.shape[:-3], *size)
