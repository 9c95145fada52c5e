"""Adaptive pooling: ``adaptive_avg_pool2d`` and ``adaptive_max_pool2d``.

The caller names the output size (OH, OW) and the windows follow from it, as in PyTorch: output
row i pools input rows start = floor(i*H/OH) to end = ceil((i+1)*H/OH) (exclusive), so windows
may differ in size by one and overlap. A rectangular window's mean or max is taken one axis at a
time: along each axis the average is a product with an (O, n) averaging matrix, and the max is a
max over the window's positions gathered by index (short windows repeat their last position,
which leaves the max unchanged). Matmul, gather and max carry their own gradients.
"""

from tinygen.backend import get_array_module
from tinygen.tensor import Tensor


def _windows(n, out):
    """PyTorch's adaptive windows along one axis: (starts, ends) of the ``out`` windows."""
    starts = [i * n // out for i in range(out)]
    ends = [-(-(i + 1) * n // out) for i in range(out)]
    return starts, ends


def _output_size(op, input, output_size):
    """(OH, OW) from an int, a pair, or a pair holding None (keep that input size)."""
    if input.ndim not in (3, 4) or min(input.shape[-3:]) <= 0:
        raise RuntimeError(f"{op}: expected 3D or 4D (batch mode) tensor with non-zero sizes "
                           f"for the spatial dims, but got input of size {list(input.shape)}")
    size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    size = tuple(n if o is None else o for n, o in zip(input.shape[-2:], size))
    if min(size) < 0:
        raise RuntimeError(f"{op}: output_size must be non-negative, got {output_size!r}")
    return size


def _averaging_matrix(xp, n, out, dtype):
    """A (out, n) matrix whose row i averages window i."""
    matrix = xp.zeros((out, n), dtype=dtype)
    for i, (start, end) in enumerate(zip(*_windows(n, out))):
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def adaptive_avg_pool2d(input, output_size):
    """The mean of each adaptive window of ``input`` (N, C, H, W) or (C, H, W): (..., OH, OW)."""
    OH, OW = _output_size("adaptive_avg_pool2d", input, output_size)
    H, W = input.shape[-2:]
    xp = get_array_module(input.array)
    rows = Tensor(_averaging_matrix(xp, H, OH, input.dtype))                    # (OH, H)
    cols = Tensor(_averaging_matrix(xp, W, OW, input.dtype))                    # (OW, W)
    return rows @ input @ cols.mT


def _window_index(xp, n, out):
    """(out, longest window) input positions; a short window repeats its last position."""
    starts, ends = _windows(n, out)
    longest = max(e - s for s, e in zip(starts, ends)) if out else 0
    return xp.asarray([[min(s + k, e - 1) for k in range(longest)]
                       for s, e in zip(starts, ends)], dtype=xp.int64).reshape(out, longest)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The max of each adaptive window of ``input`` (N, C, H, W) or (C, H, W): (..., OH, OW).
    ``return_indices`` is not supported."""
    op = "adaptive_max_pool2d"
    if return_indices:
        raise NotImplementedError(f"{op}: return_indices=True is not supported")
    OH, OW = _output_size(op, input, output_size)
    H, W = input.shape[-2:]
    xp = get_array_module(input.array)
    rows = input[..., _window_index(xp, H, OH), :].max(-2)[0]                  # (..., OH, W)
    return rows[..., _window_index(xp, W, OW)].max(-1)[0]                       # (..., OH, OW)
