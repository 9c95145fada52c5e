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
The array code is kernels/reference.py's (the spec of the fused 2-D kernels too); the
2-D convolutions use the fused kernels of conv.py.
"""

from tinygen.autograd.function import ArrayFunction
from tinygen.kernels.reference import col2im_nd, im2col_nd


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
