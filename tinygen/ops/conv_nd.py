"""im2col and col2im for any number of spatial dims, in plain array code (NumPy or CuPy).

For a kernel of size k_1 x ... x k_n, im2col copies the window each output position sees into
one column,

    cols[b, c*K + j, o] = x[b, c, o_1*s_1 - p_1 + i_1*d_1, ..., o_n*s_n - p_n + i_n*d_n]

with j the flat index of the kernel offset (i_1, ..., i_n), K = k_1 * ... * k_n, o the flat
output position, and zeros outside x. One strided slice of the zero-padded input per kernel
offset fills every output position at once, so the loop runs K times, not once per pixel.
col2im is the adjoint: each offset's slice is added back onto the canvas (the windows of one
offset never overlap, so the in-place add is exact), and the padding is cut off. Each is the
other's backward, which gives the convolutions built on them gradients of every order.
This is the readable N-d spec; the 2-D convolutions use the fused kernels of conv.py.
"""

import itertools
import math

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.conv import conv_output_size


def _offset_slices(offset, size, stride, dilation):
    """The strided slice of the padded input that kernel offset ``offset`` reads, per dim."""
    return tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                 for i, o, s, d in zip(offset, size, stride, dilation))


def im2col_nd(x, kernel_size, stride, padding, dilation):
    """x (N, C, *spatial) -> cols (N, C*prod(kernel_size), prod(output size))."""
    xp = get_array_module(x)
    N, C = x.shape[:2]
    size = conv_output_size(x.shape[2:], kernel_size, stride, padding, dilation)
    if any(padding):
        x = xp.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    cols = xp.empty((N, C, math.prod(kernel_size)) + size, dtype=x.dtype)
    for j, offset in enumerate(itertools.product(*(range(k) for k in kernel_size))):
        cols[:, :, j] = x[(slice(None), slice(None)) +
                          _offset_slices(offset, size, stride, dilation)]
    return cols.reshape(N, C * math.prod(kernel_size), math.prod(size))


def col2im_nd(cols, input_shape, kernel_size, stride, padding, dilation):
    """The adjoint of im2col_nd: cols (N, C*K, L) summed back onto an ``input_shape`` array."""
    xp = get_array_module(cols)
    N, C = input_shape[:2]
    spatial = input_shape[2:]
    size = conv_output_size(spatial, kernel_size, stride, padding, dilation)
    canvas = xp.zeros((N, C) + tuple(n + 2 * p for n, p in zip(spatial, padding)),
                      dtype=cols.dtype)
    cols = cols.reshape((N, C, math.prod(kernel_size)) + size)
    for j, offset in enumerate(itertools.product(*(range(k) for k in kernel_size))):
        canvas[(slice(None), slice(None)) + _offset_slices(offset, size, stride, dilation)] += \
            cols[:, :, j]
    inside = tuple(slice(p, p + n) for n, p in zip(spatial, padding))
    return xp.ascontiguousarray(canvas[(slice(None), slice(None)) + inside])


class Im2colNd(ArrayFunction):
    """cols = im2col_nd(x);  the gradient is col2im_nd of grad_cols."""
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation):
        ctx.geometry = (x.shape, kernel_size, stride, padding, dilation)
        return im2col_nd(x, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad_cols):
        return (Col2imNd.apply(grad_cols, *ctx.geometry),) + (None,) * 4


class Col2imNd(ArrayFunction):
    """x = col2im_nd(cols), overlapping windows summed;  the gradient is im2col_nd."""
    @staticmethod
    def forward(ctx, cols, input_shape, kernel_size, stride, padding, dilation):
        ctx.window = (kernel_size, stride, padding, dilation)
        return col2im_nd(cols, tuple(input_shape), kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad_x):
        return (Im2colNd.apply(grad_x, *ctx.window),) + (None,) * 5
