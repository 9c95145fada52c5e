"""Max unpooling: ``max_unpool1d`` / ``max_unpool2d``, the partial inverse of max pooling.

Each value goes back to the flat position h*W + w (in its output plane) that ``max_pool2d(...,
return_indices=True)`` recorded; every other position is zero. Placing by index and picking by
index (``gather``) are each other's adjoint, so the backward is a gather of the gradient.
"""

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.conv import pair
from tinygen.ops.indexing import gather
from tinygen.tensor import Tensor


class Unpool(ArrayFunction):
    """out[m, index[m, l]] = x[m, l] into (M, size) zeros; the gradient gathers it back."""
    @staticmethod
    def forward(ctx, x, index, size):
        ctx.index = index
        xp = get_array_module(x)
        out = xp.zeros((x.shape[0], size), dtype=x.dtype)
        out[xp.arange(x.shape[0])[:, None], index] = x
        return out

    @staticmethod
    def backward(ctx, grad_out):
        return gather(grad_out, 1, ctx.index), None, None


def _output_size(input, kernel, stride, padding, output_size):
    """PyTorch's _unpool_output_size: the default (n - 1) * stride + kernel - 2 * padding per
    spatial dim, or ``output_size`` (which may include N and C) if within a stride of it."""
    k = len(kernel)
    default = [(n - 1) * s + kk - 2 * p
               for n, kk, s, p in zip(input.shape[-k:], kernel, stride, padding)]
    if output_size is None:
        return default
    output_size = list(output_size)
    if len(output_size) == k + 2:
        output_size = output_size[2:]
    if len(output_size) != k:
        raise ValueError(f"output_size should be a sequence containing {k} or {k + 2} elements, "
                         f"but it has a length of '{len(output_size)}'")
    for d, (want, base, s) in enumerate(zip(output_size, default, stride)):
        if not base - s < want < base + s:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be '
                             f'between {base - s} and {base + s})')
    return output_size


def _unpool(op, input, indices, kernel, stride, padding, output_size, spatial):
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{op}: expected {spatial + 1}D or {spatial + 2}D input, but got "
                           f"input of size: {list(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: expected indices to have the same shape as input, got input "
                           f"{list(input.shape)} and indices {list(indices.shape)}")
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected indices of an integer dtype, got {indices.dtype}")
    size = _output_size(input, kernel, stride, padding, output_size)
    plane = _prod(size)
    index = indices.array.reshape(-1, _prod(input.shape[-spatial:]))
    if index.size and (int(index.min()) < 0 or int(index.max()) >= plane):
        bad = int(index.max()) if int(index.max()) >= plane else int(index.min())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(str(n) for n in size)})")
    flat = input.reshape(-1, index.shape[1])
    out = Unpool.apply(flat, index, plane)
    return out.reshape(*input.shape[:-spatial], *size)


def _prod(shape):
    out = 1
    for n in shape:
        out *= n
    return out


def _stride_pair(stride, kernel, op):
    return kernel if stride is None or stride == [] else pair(stride, "stride", op)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value of ``input`` (N, C, H, W) or (C, H, W) at its ``indices`` (from
    ``max_pool2d(..., return_indices=True)``) in a zero output; other positions stay 0."""
    op = "max_unpool2d"
    kernel = pair(kernel_size, "kernel_size", op)
    return _unpool(op, input, _as_tensor(indices), kernel, _stride_pair(stride, kernel, op),
                   pair(padding, "padding", op), output_size, 2)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``max_unpool2d``'s 1-D form for a signal (N, C, L) or (C, L)."""
    single = [_single(v) for v in (kernel_size, padding)]
    stride = single[0] if stride is None or stride == [] else _single(stride)
    return _unpool("max_unpool1d", input, _as_tensor(indices), single[0], stride, single[1],
                   output_size, 1)


def _single(value):
    return (value,) if isinstance(value, int) else tuple(value)


def _as_tensor(indices):
    return indices if isinstance(indices, Tensor) else Tensor(indices)
