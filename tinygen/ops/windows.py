"""Window functions (``tg.hann_window`` ...) and index helpers (``tg.tril_indices``,
``tg.triu_indices``, ``tg.unravel_index``, the deprecated inclusive ``tg.range``), as PyTorch's.

A periodic window of length N is the symmetric window of length N + 1 without its last point
(what spectral analysis wants); all are built on the host grid n / (M - 1) and moved.
"""

import math

import numpy as np

from tinygen import backend, dtypes
from tinygen.tensor import Tensor


def _window(name, window_length, periodic, dtype, device, formula):
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if dtype.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    device = backend.default_device() if device is None else backend.Device(device)
    if window_length <= 1:
        values = np.ones(window_length)
    else:
        m = window_length + 1 if periodic else window_length
        values = formula(np.arange(window_length) / (m - 1))    # x = n / (M - 1) in [0, 1]
    return Tensor(backend.to_device(values.astype(dtype), device))


def hann_window(window_length, periodic=True, *, dtype=None, device=None):
    return _window("hann_window", window_length, periodic, dtype, device,
                   lambda x: 0.5 - 0.5 * np.cos(2 * math.pi * x))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   device=None):
    return _window("hamming_window", window_length, periodic, dtype, device,
                   lambda x: alpha - beta * np.cos(2 * math.pi * x))


def blackman_window(window_length, periodic=True, *, dtype=None, device=None):
    return _window("blackman_window", window_length, periodic, dtype, device,
                   lambda x: 0.42 - 0.5 * np.cos(2 * math.pi * x) + 0.08 * np.cos(4 * math.pi * x))


def bartlett_window(window_length, periodic=True, *, dtype=None, device=None):
    return _window("bartlett_window", window_length, periodic, dtype, device,
                   lambda x: 1 - np.abs(2 * x - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, device=None):
    return _window("kaiser_window", window_length, periodic, dtype, device,
                   lambda x: np.i0(beta * np.sqrt(np.clip(1 - (2 * x - 1) ** 2, 0, None)))
                   / np.i0(beta))


def _indices(rows, cols, dtype, device):
    array = np.stack([rows, cols]).astype(dtypes.int64 if dtype is None else
                                          dtypes.as_dtype(dtype))
    return Tensor(backend.to_device(array, backend.default_device() if device is None
                                    else backend.Device(device)))


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix."""
    return _indices(*np.tril_indices(row, offset, col), dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row and column indices of the upper triangle of a row x col matrix."""
    return _indices(*np.triu_indices(row, offset, col), dtype, device)


def unravel_index(indices, shape):
    """The coordinates in ``shape`` of flat (row-major) ``indices``: a tuple of tensors."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    array = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
    if array.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {array.dtype}")
    if any(n < 0 for n in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    size = math.prod(shape)
    xp = backend.get_array_module(array)
    if array.size and (int(array.min()) < -size or int(array.max()) >= size):
        raise ValueError(f"'indices' must be in range [{-size}, {size - 1}] for shape {shape}")
    array = array.astype(np.int64)             # int64 first: size may not fit indices' dtype
    array = xp.where(array < 0, array + size, array)
    return tuple(Tensor(a.astype(np.int64)) for a in xp.unravel_index(array, shape))


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated in PyTorch: ``start, start + step, ...`` up to ``end`` inclusive, in the
    default float dtype."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    count = math.floor((end - start) / step) + 1
    if count < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    values = (start + np.arange(count) * step).astype(dtype)
    device = backend.default_device() if device is None else backend.Device(device)
    return Tensor(backend.to_device(values, device), requires_grad=requires_grad)
