"""Pooling: ``max_pool2d`` and ``avg_pool2d``, and ``max_pool1d`` / ``avg_pool1d`` as the 2-D ones
of 1 x L images (adaptive pooling is in adaptive_pool.py, resizing in interpolate.py).

Both poolings read their windows with im2col: every plane is a one-channel image, padded first
(with -inf for max, zeros for average) so that ceil_mode's extra windows see padding too.
Max pooling picks each window's argmax (the first of equal values, as PyTorch) and its gradient
goes back to that one input; picking and placing by index are each other's adjoint.
"""

import math

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.errors import ArgumentError
from tinygen.ops.conv import Im2col, ntuple, pair
from tinygen.ops.elementwise import div
from tinygen.ops.pad import pad
from tinygen.tensor import Tensor


class WindowPick(ArrayFunction):
    """y[m, l] = cols[m, index[m, l], l]: one value from each window (column)."""
    @staticmethod
    def forward(ctx, cols, index):
        ctx.window, ctx.index = cols.shape[1], index
        return cols[_positions(index)]

    @staticmethod
    def backward(ctx, grad_y):
        return WindowPlace.apply(grad_y, ctx.index, ctx.window), None


class WindowPlace(ArrayFunction):
    """cols = zeros with cols[m, index[m, l], l] = y[m, l]: the adjoint of WindowPick."""
    @staticmethod
    def forward(ctx, y, index, window):
        ctx.index = index
        cols = get_array_module(y).zeros((y.shape[0], window, y.shape[1]), dtype=y.dtype)
        cols[_positions(index)] = y
        return cols

    @staticmethod
    def backward(ctx, grad_cols):
        return WindowPick.apply(grad_cols, ctx.index), None, None


def _positions(index):
    """The (m, index[m, l], l) positions as an advanced index into (M, window, L)."""
    xp = get_array_module(index)
    M, L = index.shape
    return xp.arange(M)[:, None], index, xp.arange(L)[None, :]


def _pool_geometry(op, input, kernel_size, stride, padding, dilation, ceil_mode, n=2):
    """The n-tuples (kernel, stride, padding, dilation), the output size, and the extra
    bottom/right padding that ceil_mode's last windows need (n spatial dims)."""
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{op}: expected {n + 1}D or {n + 2}D (batch mode) input, but got "
                           f"input of size: {list(input.shape)}")
    if 0 in input.shape[-n - 1:]:                      # only a batch dim may be empty
        raise RuntimeError(f"{op}: Expected input's non-batch dimensions to have positive "
                           f"length, but input has a shape of {list(input.shape)}")

    def as_tuple(value, name):
        if isinstance(value, (tuple, list)) and len(value) == 1:   # PyTorch reads (k,) as k
            value = value[0]
        return pair(value, name, op) if n == 2 else ntuple(value, n, name, op)
    kernel = as_tuple(kernel_size, "kernel_size")
    stride = (kernel if stride is None or stride == [] or stride == ()
              else as_tuple(stride, "stride"))
    padding, dilation = as_tuple(padding, "padding"), as_tuple(dilation, "dilation")
    if min(kernel) <= 0 or min(stride) <= 0 or min(dilation) <= 0 or min(padding) < 0:
        raise ArgumentError(f"{op}: kernel_size, stride and dilation must be positive and padding "
                            f"non-negative, got kernel_size={kernel}, stride={stride}, "
                            f"padding={padding}, dilation={dilation}")
    if any(p > k // 2 for k, p in zip(kernel, padding)):
        raise ArgumentError(f"{op}: pad should be smaller than or equal to half of kernel size, "
                            f"but got padding={padding}, kernel_size={kernel}")
    size, extra = [], []
    for m, k, s, p, d in zip(input.shape[-n:], kernel, stride, padding, dilation):
        span = m + 2 * p - d * (k - 1) - 1
        out = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= m + p:      # the last window must start inside
            out -= 1
        size.append(out)
        extra.append(max(0, (out - 1) * s + d * (k - 1) + 1 - (m + 2 * p)))
    if min(size) <= 0:
        raise RuntimeError(f"{op}: given input size {tuple(input.shape[-n - 1:])}, the "
                           f"calculated output size {tuple(input.shape[-n - 1:-n]) + tuple(size)}"
                           f" is too small")
    return kernel, stride, padding, dilation, tuple(size), tuple(extra)


def lowest(input):
    """The padding a max never picks: -inf, or the smallest value of an integer dtype (-inf cast
    to int16 is 0, which would beat a window of negatives)."""
    kind = input.dtype.kind
    return int(np.iinfo(input.dtype).min) if kind in "iu" else -math.inf


def _windows(input, kernel, stride, padding, dilation, extra, value):
    """im2col of every plane of the padded input: (N*C, kh*kw, OH*OW)."""
    (ph, pw), (eh, ew) = padding, extra
    padded = pad(input, (pw, pw + ew, ph, ph + eh), value=value)
    H, W = padded.shape[-2:]
    planes = padded.reshape(-1, 1, H, W)
    return Im2col.apply(planes, kernel, stride, (0, 0), dilation)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The max of each window (padding counts as -inf). With ``return_indices``, also each max's
    flat position h*W + w in its input plane, as PyTorch (for ``max_unpool2d``)."""
    op = "max_pool2d"
    kernel, stride, padding, dilation, size, extra = _pool_geometry(
        op, input, kernel_size, stride, padding, dilation, ceil_mode)
    cols = _windows(input, kernel, stride, padding, dilation, extra, lowest(input))
    argmax = get_array_module(cols.array).argmax(cols.array, axis=1)          # (N*C, L)
    out = WindowPick.apply(cols, argmax).reshape(*input.shape[:-2], *size)
    if not return_indices:
        return out
    xp = get_array_module(argmax)
    i, j = argmax // kernel[1], argmax % kernel[1]
    oh, ow = xp.divmod(xp.arange(size[0] * size[1]), size[1])
    h = oh * stride[0] - padding[0] + i * dilation[0]
    w = ow * stride[1] - padding[1] + j * dilation[1]
    indices = (h * input.shape[-1] + w).astype(np.int64).reshape(out.shape)
    return out, Tensor(indices)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window. The divisor is the window's size within the zero-padded input
    (count_include_pad=True) or its number of input pixels, or ``divisor_override``."""
    op = "avg_pool2d"
    if divisor_override is not None and divisor_override == 0:
        raise ArgumentError(f"{op}: divisor must be not zero")
    kernel, stride, padding, _, size, extra = _pool_geometry(
        op, input, kernel_size, stride, padding, 1, ceil_mode)
    cols = _windows(input, kernel, stride, padding, (1, 1), extra, 0.0)
    divisor = divisor_override
    if divisor is None:
        xp = get_array_module(cols.array)
        per_axis = [_window_counts(xp, n, k, s, p, o, count_include_pad)
                    for n, k, s, p, o in zip(input.shape[-2:], kernel, stride, padding, size)]
        divisor = Tensor((per_axis[0][:, None] * per_axis[1][None, :]).reshape(-1)
                         .astype(input.dtype))
    return window_means(cols, divisor).reshape(*input.shape[:-2], *size)


def window_means(cols, divisor):
    """Each window's (column's) sum over its divisor. Integer inputs keep their dtype, as
    PyTorch's: the exact sum divided with truncation toward zero (C++ integer division)."""
    total = cols.sum(1)
    if total.dtype.kind in "fc":
        return total / divisor
    return div(total, divisor, rounding_mode="trunc")


def _window_counts(xp, n, k, s, p, out, count_include_pad):
    """How many positions of each window along one axis the divisor counts (PyTorch's rule:
    padding counts when count_include_pad, ceil_mode's overhang past the padding never does)."""
    start = xp.arange(out) * s - p
    end = xp.minimum(start + k, n + p)
    if count_include_pad:
        return end - start
    return xp.minimum(end, n) - xp.maximum(start, 0)


def _as_height_one(value, name, op, height=1):
    """A 1-D pooling argument (an int or a 1-tuple) as the 2-D pair (height, value)."""
    value = (value,) if isinstance(value, int) else tuple(value)
    if len(value) != 1:
        raise ArgumentError(f"{op}: {name} must be an int or a tuple of one int, got {value!r}")
    return (height,) + value


def _as_row_image(op, input, kernel_size, stride, padding):
    """A 1-D pool's signal (N, C, L) or (C, L) as a 1 x L image, and its kernel_size, stride
    (kernel_size when not given) and padding as 2-D pairs: height 1, no padding above."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: expected 2D or 3D input (C, L) or (N, C, L), but got input "
                           f"of size: {list(input.shape)}")
    stride = kernel_size if stride is None or stride == [] else stride
    return (input.unsqueeze(-2), _as_height_one(kernel_size, "kernel_size", op),
            _as_height_one(stride, "stride", op), _as_height_one(padding, "padding", op, height=0))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """max_pool2d of the signal (N, C, L) or (C, L) read as a 1 x L image."""
    image, kernel, stride, padding = _as_row_image("max_pool1d", input, kernel_size, stride,
                                                   padding)
    out = max_pool2d(image, kernel, stride, padding,
                     _as_height_one(dilation, "dilation", "max_pool1d"), ceil_mode,
                     return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """avg_pool2d of the signal (N, C, L) or (C, L) read as a 1 x L image."""
    image, kernel, stride, padding = _as_row_image("avg_pool1d", input, kernel_size, stride,
                                                   padding)
    return avg_pool2d(image, kernel, stride, padding, ceil_mode, count_include_pad).squeeze(-2)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool2d`` that always returns (values, flat per-plane indices), as PyTorch's."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool1d`` that always returns (values, indices), as PyTorch's."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)
