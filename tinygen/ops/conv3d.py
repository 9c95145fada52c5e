"""3-D convolutions, ``conv3d`` and ``conv_transpose3d``, through the N-d im2col of conv_nd.py.

The same plan as conv2d in conv.py: im2col, one GEMM per group, then the result in (N, C, ...)
order with the bias added; the transposed convolution is the adjoint (GEMM with the weight
transposed, then col2im). The helpers here take the number of spatial dims ``n``, so the same
code would serve any rank.
"""

from tinygen.errors import ArgumentError
from tinygen.ops.conv import (
    BatchMajor, _check_bias, _check_input, _grouped_matmul, _positive, conv_output_size, ntuple,
    transposed_arguments)
from tinygen.ops.conv_nd import Col2imNd, Im2colNd
from tinygen.ops.pad import pad


def _padding(padding, kernel_size, stride, dilation, op):
    """(symmetric padding, extra after-padding): 'valid', 'same' (the odd one of d*(k-1) after,
    as PyTorch; stride 1 only) or explicit ints."""
    n = len(kernel_size)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * n, (0,) * n
        if padding != "same":
            raise ArgumentError(f"{op}: invalid padding string {padding!r}, should be one of "
                                f"{{'valid', 'same'}}")
        if stride != (1,) * n:
            raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions "
                                f"(stride={stride}); use an explicit padding")
        total = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
        return tuple(t // 2 for t in total), tuple(t % 2 for t in total)
    padding = ntuple(padding, n, "padding", op)
    if min(padding) < 0:
        raise ArgumentError(f"{op}: negative padding is not supported, got {padding}")
    return padding, (0,) * n


def _flat_pad(before_after):
    """F.pad's flat widths, last dim first, from (before, after) pairs in dim order."""
    return tuple(w for a, b in reversed(before_after) for w in (a, b))


def _check_output(op, batch, channels, size):
    if min(size) <= 0:
        shape = "x".join(str(s) for s in (batch, channels) + tuple(size))
        raise RuntimeError(f"{op}: calculated output size ({shape}) is too small; the input is "
                           f"smaller than the (dilated) kernel after padding")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation: input (N, C, D, H, W) or (C, D, H, W), weight
    (OC, C/groups, kd, kh, kw). ``padding`` is an int, a triple, 'valid' or 'same'."""
    op, n = "conv3d", 3
    _check_input(op, input, weight, bias, groups, n)
    if input.ndim == n + 1:
        return conv3d(input.unsqueeze(0), weight, bias, stride, padding, dilation,
                      groups).squeeze(0)
    stride = _positive(ntuple(stride, n, "stride", op), "stride", op)
    dilation = _positive(ntuple(dilation, n, "dilation", op), "dilation", op)
    out_channels, group_channels, *kernel = weight.shape
    kernel = tuple(kernel)
    if input.shape[1] != group_channels * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(input.shape)} to have "
                           f"{group_channels * groups} channels, but got {input.shape[1]} "
                           f"channels instead")
    _check_bias(op, bias, out_channels)
    padding, extra = _padding(padding, kernel, stride, dilation, op)
    if any(extra):
        input = pad(input, _flat_pad([(0, e) for e in extra]))
    N = input.shape[0]
    size = conv_output_size(input.shape[2:], kernel, stride, padding, dilation)
    _check_output(op, N, out_channels, size)
    weight = weight.reshape(groups, out_channels // groups, -1)           # (g, M, K)
    cols = Im2colNd.apply(input, kernel, stride, padding, dilation)       # (N, C*K, L)
    out = _grouped_matmul(weight, cols, groups)                           # (OC, N, L)
    return BatchMajor.apply(out.reshape(out_channels, N, *size), bias)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv3d: input (N, C, D, H, W) or (C, D, H, W), weight
    (C, OC/groups, kd, kh, kw) as PyTorch; per dim OD = (D-1)*s - 2p + d*(k-1) + output_padding
    + 1."""
    op, n = "conv_transpose3d", 3
    _check_input(op, input, weight, bias, groups, n)
    if input.ndim == n + 1:
        return conv_transpose3d(input.unsqueeze(0), weight, bias, stride, padding,
                                output_padding, groups, dilation).squeeze(0)
    stride, padding, output_padding, dilation = transposed_arguments(
        op, n, stride, padding, output_padding, dilation)
    in_channels, group_out, *kernel = weight.shape
    kernel = tuple(kernel)
    if input.shape[1] != in_channels:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {in_channels} channels, but got "
                           f"{input.shape[1]} channels instead")
    out_channels = group_out * groups
    _check_bias(op, bias, out_channels)
    N, spatial = input.shape[0], tuple(input.shape[2:])
    size = tuple((m - 1) * s - 2 * p + d * (k - 1) + q + 1 for m, k, s, p, d, q in zip(
        spatial, kernel, stride, padding, dilation, output_padding))
    _check_output(op, N, out_channels, size)
    weight_t = weight.reshape(groups, in_channels // groups, -1).transpose(1, 2)
    cols = _grouped_matmul(weight_t, input.reshape(N, in_channels, -1), groups)
    cols = cols.permute(1, 0, 2)                                          # (N, OC*K, L)
    # col2im onto the whole canvas the windows touch, (m-1)*s + d*(k-1) + 1 per dim, then cut
    # `padding` off the front and keep `size` (past the canvas, when output_padding exceeds
    # padding: zeros).
    canvas = tuple((m - 1) * s + d * (k - 1) + 1
                   for m, k, s, d in zip(spatial, kernel, stride, dilation))
    out = Col2imNd.apply(cols, (N, out_channels) + canvas, kernel, stride, (0,) * n, dilation)
    out = pad(out, _flat_pad([(-p, p + o - c) for p, o, c in zip(padding, size, canvas)]))
    return out if bias is None else out + bias.reshape((1, -1) + (1,) * n)
