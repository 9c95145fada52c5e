"""Adaptive pooling: ``adaptive_avg_pool1d/2d/3d`` and ``adaptive_max_pool1d/2d/3d``.

The caller names the output size (OH, OW) and the windows follow from it, as in PyTorch: output
row i pools input rows start = floor(i*H/OH) to end = ceil((i+1)*H/OH) (exclusive), so windows
may differ in size by one and overlap. A rectangular window's mean or max is taken one axis at a
time: along each axis the average is a product with an (O, n) averaging matrix, and the max is a
max over the window's positions gathered by index (short windows repeat their last position,
which leaves the max unchanged). Matmul, gather and max carry their own gradients.
The 1-D and 3-D max gathers each whole window at once (all axes' positions combined), so that
the argmax, and with it PyTorch's flat index ``return_indices`` gives, is over the window.
"""

import math

from tinygen.backend import get_array_module
from tinygen.errors import ArgumentError
from tinygen.tensor import Tensor


def _windows(n, out):
    """PyTorch's adaptive windows along one axis: (starts, ends) of the ``out`` windows."""
    starts = [i * n // out for i in range(out)]
    ends = [-(-(i + 1) * n // out) for i in range(out)]
    return starts, ends


def _output_size(op, input, output_size, n=2):
    """The output size from an int, or an n-tuple that may hold None (keep that input size)."""
    size = (output_size,) * n if isinstance(output_size, int) else tuple(output_size)
    if len(size) != n:
        kind = "a pair" if n == 2 else f"a tuple of {n}"
        raise ArgumentError(f"{op}: output_size must be an int or {kind}, got {output_size!r}")
    if n > 1 and not isinstance(output_size, int) and input.ndim <= n:
        # PyTorch's Python wrapper fills the Nones from the input's sizes first, a ValueError
        raise ValueError(f"{op}: Input dimension should be at least {n + 1}, got input of "
                         f"size {list(input.shape)}")
    if input.ndim not in (n + 1, n + 2) or min(input.shape[-n - 1:]) <= 0:
        raise RuntimeError(f"{op}: expected {n + 1}D or {n + 2}D (batch mode) tensor with "
                           f"non-zero sizes for the spatial dims, but got input of size "
                           f"{list(input.shape)}")
    size = tuple(m if o is None else o for m, o in zip(input.shape[-n:], size))
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
    """The max of each adaptive window of ``input`` (N, C, H, W) or (C, H, W): (..., OH, OW);
    with ``return_indices`` also each max's flat position h*W + w in its plane. (Without, the
    max is taken along rows, then columns: two small gathers instead of one of every window.)"""
    op = "adaptive_max_pool2d"
    OH, OW = _output_size(op, input, output_size)
    if return_indices or not OH * OW:
        return _adaptive_max(op, input, output_size, 2, return_indices)
    H, W = input.shape[-2:]
    xp = get_array_module(input.array)
    rows = input[..., _window_index(xp, H, OH), :].max(-2)[0]                  # (..., OH, W)
    return rows[..., _window_index(xp, W, OW)].max(-1)[0]                       # (..., OH, OW)


def _adaptive_avg(op, input, output_size, n):
    """The averaging matrix applied along each of the last n axes in turn."""
    size = _output_size(op, input, output_size, n)
    xp = get_array_module(input.array)
    out = input
    for i, (m, o) in enumerate(zip(input.shape[-n:], size)):
        axis = input.ndim - n + i
        matrix = Tensor(_averaging_matrix(xp, m, o, input.dtype))              # (o, m)
        out = (out.movedim(axis, -1) @ matrix.mT).movedim(-1, axis)
    return out


def adaptive_avg_pool1d(input, output_size):
    """The mean of each adaptive window of ``input`` (N, C, L) or (C, L): (..., OL)."""
    return _adaptive_avg("adaptive_avg_pool1d", input, output_size, 1)


def adaptive_avg_pool3d(input, output_size):
    """The mean of each adaptive window of ``input`` (N, C, D, H, W) or (C, D, H, W)."""
    return _adaptive_avg("adaptive_avg_pool3d", input, output_size, 3)


def _adaptive_max(op, input, output_size, n, return_indices):
    """Each window's max over all its positions, gathered as (..., *output size, window), and
    with ``return_indices`` the flat position of that max within its input plane."""
    size = _output_size(op, input, output_size, n)
    spatial = tuple(input.shape[-n:])
    xp = get_array_module(input.array)
    if not math.prod(size):                # an empty output: gather no position at all
        values = input.reshape(*input.shape[:-n], -1)[..., xp.zeros(size, dtype=xp.int64)]
        return (values, Tensor(xp.zeros(values.shape, dtype=xp.int64))) if return_indices \
            else values
    flat = 0                               # flat input position, as (O_1, K_1, O_2, K_2, ...)
    for i, (m, o) in enumerate(zip(spatial, size)):
        index = _window_index(xp, m, o)
        shape = [1] * (2 * n)
        shape[2 * i:2 * i + 2] = index.shape
        flat = flat * m + index.reshape(shape)
    flat = flat.transpose(tuple(range(0, 2 * n, 2)) + tuple(range(1, 2 * n, 2)))
    flat = flat.reshape(size + (-1,))                                          # (*size, K)
    windows = input.reshape(*input.shape[:-n], math.prod(spatial))[..., flat]
    values, argmax = windows.max(-1)
    if not return_indices:
        return values
    where = xp.broadcast_to(flat, windows.shape)
    indices = xp.take_along_axis(where, argmax.array[..., None], axis=-1)[..., 0]
    return values, Tensor(indices.astype(xp.int64))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The max of each adaptive window of ``input`` (N, C, L) or (C, L); with
    ``return_indices`` also each max's position."""
    return _adaptive_max("adaptive_max_pool1d", input, output_size, 1, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """The max of each adaptive window of ``input`` (N, C, D, H, W) or (C, D, H, W); with
    ``return_indices`` also each max's flat position (d*H + h)*W + w in its plane."""
    return _adaptive_max("adaptive_max_pool3d", input, output_size, 3, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d`` that always returns (values, indices), as PyTorch's."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d`` that always returns (values, indices), as PyTorch's."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d`` that always returns (values, indices), as PyTorch's."""
    return adaptive_max_pool3d(input, output_size, True)
