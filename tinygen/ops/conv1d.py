"""1-D convolutions, ``conv1d`` and ``conv_transpose1d``, as 2-D ones of 1 x L images.

A signal (N, C, L) is the image (N, C, 1, L) and a kernel (OC, C/groups, k) the kernel
(OC, C/groups, 1, k); the height axis then has size, kernel, stride and dilation 1 and no
padding, so the 2-D convolution computes exactly the 1-D one, gradients included.
"""

from tinygen.errors import ArgumentError
from tinygen.ops.conv import _check_input, conv2d, conv_transpose2d


def single(value, name, op):
    """An int or a 1-tuple of ints as an int, as PyTorch's ``_single`` read back."""
    if isinstance(value, int):
        return value
    value = tuple(value)
    if len(value) != 1 or not isinstance(value[0], int):
        raise ArgumentError(f"{op}: {name} must be an int or a tuple of one int, got {value!r}")
    return value[0]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation: input (N, C, L) or (C, L), weight (OC, C/groups, k).

    ``padding`` is an int, 'valid' (none) or 'same' (output length = input length, stride 1).
    """
    op = "conv1d"
    _check_input(op, input, weight, bias, groups, n=1)
    stride = single(stride, "stride", op)
    if padding == "same" and stride != 1:
        raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions "
                            f"(stride={stride}); use an explicit padding")
    if input.shape[-2] != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(input.shape)} to have "
                           f"{weight.shape[1] * groups} channels, but got {input.shape[-2]} "
                           f"channels instead")
    padding = padding if isinstance(padding, str) else (0, single(padding, "padding", op))
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, stride), padding,
                 (1, single(dilation, "dilation", op)), groups)
    return out.squeeze(-2)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv1d: input (N, C, L) or (C, L), weight (C, OC/groups, k) as PyTorch.
    OL = (L - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1."""
    op = "conv_transpose1d"
    _check_input(op, input, weight, bias, groups, n=1)
    if input.shape[-2] != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {weight.shape[0]} channels, but "
                           f"got {input.shape[-2]} channels instead")
    out = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias,
                           (1, single(stride, "stride", op)), (0, single(padding, "padding", op)),
                           (0, single(output_padding, "output_padding", op)), groups,
                           (1, single(dilation, "dilation", op)))
    return out.squeeze(-2)
