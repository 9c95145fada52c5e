"""Sliding blocks: ``unfold`` / ``Unfold`` (im2col) and ``fold`` / ``Fold`` (col2im).

unfold copies each kernel_size block of (N, C, H, W) into one column of (N, C*kh*kw, L), row
(c*kh + i)*kw + j holding channel c at kernel offset (i, j), exactly PyTorch's layout; fold adds
the columns back onto an (N, C, *output_size) canvas, summing where blocks overlap. They are the
Im2col/Col2im pair that conv2d is built on (``tinygen/ops/conv.py``), each the other's adjoint.
"""

from tinygen.nn.module import Module
from tinygen.ops.conv import Col2im, Im2col, conv_output_size, pair


def _window(op, kernel_size, dilation, padding, stride):
    """The (kernel, stride, padding, dilation) pairs, in Im2col's argument order."""
    kernel, stride = pair(kernel_size, "kernel_size", op), pair(stride, "stride", op)
    padding, dilation = pair(padding, "padding", op), pair(dilation, "dilation", op)
    if min(kernel + stride + dilation) <= 0 or min(padding) < 0:
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be positive and padding "
                           f"non-negative, got kernel_size={kernel}, stride={stride}, "
                           f"padding={padding}, dilation={dilation}")
    return kernel, stride, padding, dilation


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The blocks of ``input`` (N, C, H, W) or (C, H, W) as columns: (N, C*kh*kw, L) or
    (C*kh*kw, L), L the number of block positions."""
    op = "unfold"
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.ndim}D) of size {list(input.shape)}")
    if input.ndim == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    window = _window(op, kernel_size, dilation, padding, stride)
    blocks = conv_output_size(input.shape[-2:], *window)
    if min(blocks) <= 0:
        raise RuntimeError(f"{op}: given input of size {list(input.shape)} and kernel_size="
                           f"{window[0]}, padding={window[2]}, dilation={window[3]}, the "
                           f"calculated shape of the array of sliding blocks {blocks} is too "
                           f"small")
    return Im2col.apply(input, *window)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The columns (N, C*kh*kw, L) or (C*kh*kw, L) summed back into blocks of an
    (N, C, *output_size) or (C, *output_size) image: unfold's adjoint."""
    op = "fold"
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
                           f"supported (got {input.ndim}D) of size {list(input.shape)}")
    if input.ndim == 2:
        return fold(input.unsqueeze(0), output_size, kernel_size, dilation, padding,
                    stride).squeeze(0)
    output_size = pair(output_size, "output_size", op)
    window = _window(op, kernel_size, dilation, padding, stride)
    (kh, kw), blocks = window[0], conv_output_size(output_size, *window)
    N, rows, L = input.shape
    if rows % (kh * kw):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={rows} and kernel_size="
                           f"{window[0]}")
    if min(blocks) <= 0 or L != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={output_size}, kernel_size={window[0]}, "
                           f"dilation={window[3]}, padding={window[2]}, stride={window[1]}, "
                           f"expected size of input's dimension 2 to match the calculated number "
                           f"of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}"
                           f", but got input.size(2)={L}.")
    return Col2im.apply(input, (N, rows // (kh * kw)) + output_size, *window)


class _Blocks(Module):
    """The window arguments Unfold and Fold share, kept as given (as PyTorch)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Unfold(_Blocks):
    """Extracts sliding blocks as columns, as ``torch.nn.Unfold``."""

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)


class Fold(_Blocks):
    """Sums columns back into an image of ``output_size``, as ``torch.nn.Fold``."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self):
        return f"output_size={self.output_size}, " + super().extra_repr()
