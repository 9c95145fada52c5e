"""Convolutions through im2col + GEMM: ``conv2d``, ``conv_transpose2d`` and the Im2col/Col2im pair.

im2col copies the window each output pixel sees into one column,

    cols[n, (c*kh + i)*kw + j, oh*OW + ow] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]

(zero outside x), so a convolution is one matrix product with the weight read as (OC, C*kh*kw).
col2im is the adjoint of im2col (it adds every column back onto the pixels it came from), so each
is the other's backward, and conv2d, built from them, reshapes and matmul, has gradients of every
order. A transposed convolution is the adjoint of a convolution: the GEMM with the weight
transposed, then col2im (Dumoulin & Visin, "A guide to convolution arithmetic", 2016).

The GEMM wants the columns of the whole batch as one (C*kh*kw, N*L) matrix, and the fused im2col
keeps its (N, C*kh*kw, L) result in exactly that memory order (a transposed view), so that the
matrix is a free reshape, and the gradient of the columns, coming out of the GEMM in that order,
goes to col2im without a copy. The GEMM's result is channel-major, (OC, N, L); one pass puts it
in PyTorch's (N, OC, ...) order and adds the bias.
"""

from tinygen import kernels
from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.errors import ArgumentError, DtypeError
from tinygen.ops.linalg import MatMul
from tinygen.ops.pad import pad


class Im2col(ArrayFunction):
    """cols = im2col(x) (N, C*kh*kw, OH*OW);  the gradient is col2im of grad_cols."""
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation):
        ctx.geometry = (x.shape, kernel_size, stride, padding, dilation)
        return kernels.im2col(x, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad_cols):
        return (Col2im.apply(grad_cols, *ctx.geometry),) + (None,) * 4


class Col2im(ArrayFunction):
    """x = col2im(cols) (N, C, H, W), overlapping windows summed;  the gradient is im2col."""
    @staticmethod
    def forward(ctx, cols, input_shape, kernel_size, stride, padding, dilation):
        ctx.window = (kernel_size, stride, padding, dilation)
        return kernels.col2im(cols, input_shape, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad_x):
        return (Im2col.apply(grad_x, *ctx.window),) + (None,) * 5


class BatchMajor(ArrayFunction):
    """y[n, c] = x[c, n] + bias[c]: the GEMM's channel-major result (C, N, ...) in PyTorch's
    (N, C, ...) order, the bias (or None) added in the same pass."""
    @staticmethod
    def forward(ctx, x, bias):
        xp = get_array_module(x)
        y = xp.empty((x.shape[1], x.shape[0]) + x.shape[2:], x.dtype)
        if bias is None:
            y[...] = x.swapaxes(0, 1)
        else:
            xp.add(x.swapaxes(0, 1), bias.reshape((-1,) + (1,) * (x.ndim - 2)), out=y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        # One copy into channel-major order, which the GEMM's backward reads as a matrix without
        # another, and the bias gradient sums its contiguous rows: 2x faster than summing
        # grad_y over its batch and pixel axes.
        grad_x = grad_y.transpose(0, 1).contiguous()
        need_x, need_bias = ctx.needs_input_grad[:2]
        grad_bias = grad_x.sum(dim=tuple(range(1, grad_x.ndim))) if need_bias else None
        return (grad_x if need_x else None), grad_bias


def pair(value, name, op):
    """An int or a pair of ints as a pair (height, width), as PyTorch's ``_pair``."""
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ArgumentError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return value


def ntuple(value, n, name, op):
    """An int or a tuple of n ints as an n-tuple, as PyTorch's ``_triple`` for n = 3."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n or not all(isinstance(v, int) for v in value):
        raise ArgumentError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return value


def _positive(values, name, op):
    if min(values) <= 0:
        raise ArgumentError(f"{op}: {name} must be positive, got {values}")
    return values


def conv_output_size(size, kernel_size, stride, padding, dilation):
    """OH = floor((H + 2p - d*(k - 1) - 1) / s) + 1, for each spatial dim."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(size, kernel_size, stride, padding, dilation))


class GroupedGemm(MatMul):
    """out[g] = weight[g] @ cols[g], weight (g, M, K), cols (g, K, P): one GEMM per group.

    MatMul with another backward: grad_weight = grad_out @ cols^T, a product with the second
    operand transposed, which OpenBLAS computes 7% faster at DCGAN sizes with the operand of
    more rows first, so it is taken as (cols @ grad_out^T)^T when cols has more rows (a
    convolution's C*kh*kw > OC). Both are matmuls of tensors: gradients of every order work.
    """
    @staticmethod
    def backward(ctx, grad_out):
        weight, cols = ctx.saved_tensors
        grad_weight = grad_cols = None
        if ctx.needs_input_grad[0]:
            grad_weight = (grad_out @ cols.mT if grad_out.shape[-2] >= cols.shape[-2]
                           else (cols @ grad_out.mT).mT)
        if ctx.needs_input_grad[1]:
            grad_cols = weight.mT @ grad_out
        return grad_weight, grad_cols


def _grouped_matmul(weight, cols, groups):
    """out[g*M + m, n, l] = sum_k weight[g, m, k] * cols[n, g*K + k, l]: (g*M, N, L), channels
    first.

    The columns are read as (g, K, N*L) so that each group is ONE large GEMM, also in
    backward: the weight gradient grad_out (M, N*L) @ cols^T (N*L, K) needs no sum over the batch,
    and the column gradient weight^T @ grad_out is (K, N*L), the fused col2im's own layout.
    That read is free for the fused im2col's columns (kept in that order) and a copy otherwise.
    Batching over N instead ((M, K) @ (N, K, L)) was 1.4x slower at DCGAN sizes: N small GEMMs,
    and a weight gradient of N products summed afterwards.
    """
    N, _, L = cols.shape
    g, M, K = weight.shape
    out = GroupedGemm.apply(weight, cols.permute(1, 0, 2).reshape(g, K, N * L))  # (g, M, N*L)
    return out.reshape(g * M, N, L)


def _check_input(op, input, weight, bias, groups, n=2):
    """Rank, groups and dtype checks shared by the n-d convolutions and their transposes."""
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {op}, "
                           f"but got input of size: {list(input.shape)}")
    if weight.ndim != n + 2:
        raise RuntimeError(f"{op}: expected a {n + 2}D weight, got weight of size "
                           f"{list(weight.shape)}")
    if not isinstance(groups, int) or groups <= 0:
        raise ArgumentError(f"{op}: groups must be a positive integer, got {groups!r}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        found = f", bias {bias.dtype}" if bias is not None else ""
        raise DtypeError(f"{op}: input ({input.dtype}), weight ({weight.dtype}){found} must have "
                         f"the same dtype; convert with .to(dtype)")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {list(weight.shape)} instead")


def _check_bias(op, bias, out_channels):
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"{op}: expected bias of shape ({out_channels},) for "
                           f"{out_channels} output channels, got {tuple(bias.shape)}")


def _same_padding(kernel_size, stride, dilation, op):
    """PyTorch's padding='same': d*(k-1) in total, the odd one (if any) on the right/bottom.

    Returns the symmetric part (for im2col) and the extra (bottom, right) for an explicit pad.
    """
    if stride != (1, 1):
        raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions "
                            f"(stride={stride}); use an explicit padding")
    total = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
    return tuple(t // 2 for t in total), tuple(t % 2 for t in total)


def _conv_padding(padding, kernel_size, stride, dilation, op):
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            return _same_padding(kernel_size, stride, dilation, op)
        raise ArgumentError(f"{op}: invalid padding string {padding!r}, should be one of "
                            f"{{'valid', 'same'}}")
    padding = pair(padding, "padding", op)
    if min(padding) < 0:
        raise ArgumentError(f"{op}: negative padding is not supported, got {padding}")
    return padding, (0, 0)


def _check_output(op, batch, channels, size):
    if min(size) <= 0:
        raise RuntimeError(f"{op}: calculated output size ({batch}x{channels}x{size[0]}x"
                           f"{size[1]}) is too small; the input is smaller than the (dilated) "
                           f"kernel after padding")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation: input (N, C, H, W) or (C, H, W), weight (OC, C/groups, kh, kw).

    ``padding`` is an int, a pair, 'valid' (none) or 'same' (output size = input size, stride 1).
    """
    op = "conv2d"
    _check_input(op, input, weight, bias, groups)
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation,
                      groups).squeeze(0)
    stride = _positive(pair(stride, "stride", op), "stride", op)
    dilation = _positive(pair(dilation, "dilation", op), "dilation", op)
    out_channels, group_channels, kh, kw = weight.shape
    if input.shape[1] != group_channels * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(input.shape)} to have "
                           f"{group_channels * groups} channels, but got {input.shape[1]} "
                           f"channels instead")
    _check_bias(op, bias, out_channels)
    padding, extra = _conv_padding(padding, (kh, kw), stride, dilation, op)
    if any(extra):
        input = pad(input, (0, extra[1], 0, extra[0]))
    N, _, H, W = input.shape
    size = conv_output_size((H, W), (kh, kw), stride, padding, dilation)
    _check_output(op, N, out_channels, size)
    weight = weight.reshape(groups, out_channels // groups, -1)          # (g, M, K)
    cols = Im2col.apply(input, (kh, kw), stride, padding, dilation)       # (N, C*kh*kw, L)
    out = _grouped_matmul(weight, cols, groups)                           # (OC, N, L)
    return BatchMajor.apply(out.reshape(out_channels, N, *size), bias)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv2d ("deconvolution"): input (N, C, H, W) or (C, H, W), weight
    (C, OC/groups, kh, kw) as PyTorch. OH = (H-1)*sh - 2*ph + dh*(kh-1) + output_padding + 1.

    output_padding adds rows/columns on the bottom/right, resolving which of the input sizes
    that a strided conv2d maps to H the result should have.
    """
    op = "conv_transpose2d"
    _check_input(op, input, weight, bias, groups)
    if input.ndim == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding,
                                output_padding, groups, dilation).squeeze(0)
    stride, padding, output_padding, dilation = transposed_arguments(
        op, 2, stride, padding, output_padding, dilation)
    in_channels, group_out, kh, kw = weight.shape
    if input.shape[1] != in_channels:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {in_channels} channels, but got "
                           f"{input.shape[1]} channels instead")
    out_channels = group_out * groups
    _check_bias(op, bias, out_channels)
    N, _, H, W = input.shape
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + q + 1 for n, k, s, p, d, q in zip(
        (H, W), (kh, kw), stride, padding, dilation, output_padding))
    _check_output(op, N, out_channels, size)
    weight_t = weight.reshape(groups, in_channels // groups, -1).transpose(1, 2)
    window = ((kh, kw), stride, padding, dilation)
    cols = _grouped_matmul(weight_t, input.reshape(N, in_channels, H * W), groups)
    cols = cols.permute(1, 0, 2)                                          # (N, OC*kh*kw, H*W)
    if conv_output_size(size, *window) == (H, W):         # conv2d maps `size` back onto (H, W)
        return _add_bias(Col2im.apply(cols, (N, out_channels) + size, *window), bias)
    # output_padding >= stride (allowed when < dilation): col2im onto the whole canvas every
    # window touches, (H-1)*s + d*(k-1) + 1 rows, then cut `padding` off the top/left and keep
    # `size` rows (past the canvas only when output_padding exceeds padding: zeros).
    canvas = tuple((n - 1) * s + d * (k - 1) + 1
                   for n, k, s, d in zip((H, W), (kh, kw), stride, dilation))
    out = Col2im.apply(cols, (N, out_channels) + canvas, (kh, kw), stride, (0, 0), dilation)
    (ph, pw), (oh, ow) = padding, size
    out = pad(out, (-pw, pw + ow - canvas[1], -ph, ph + oh - canvas[0]))
    return _add_bias(out, bias)


def transposed_arguments(op, n, stride, padding, output_padding, dilation):
    """A transposed convolution's stride, padding, output_padding and dilation as n-tuples,
    checked as PyTorch checks them."""
    def as_tuple(value, name):
        return pair(value, name, op) if n == 2 else ntuple(value, n, name, op)
    stride = _positive(as_tuple(stride, "stride"), "stride", op)
    dilation = _positive(as_tuple(dilation, "dilation"), "dilation", op)
    padding, output_padding = as_tuple(padding, "padding"), as_tuple(output_padding,
                                                                        "output_padding")
    if min(padding) < 0 or min(output_padding) < 0:
        raise ArgumentError(f"{op}: negative padding is not supported, got padding={padding}, "
                            f"output_padding={output_padding}")
    for p, s, d in zip(output_padding, stride, dilation):
        if p >= s and p >= d:
            raise ArgumentError(f"{op}: output padding must be smaller than either stride or "
                                f"dilation, but got output_padding={output_padding}, "
                                f"stride={stride}, dilation={dilation}")
    return stride, padding, output_padding, dilation


def _add_bias(out, bias):
    """out + bias per channel. A broadcast add: bias_act would need channels last."""
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)
