"""``make_tensor``: a random tensor of a given shape, dtype and device, as PyTorch's.

Values are uniform in ``[low, high)``; left out, the range is PyTorch's for the dtype: bool
[0, 2), unsigned integers [0, 10), signed integers [-9, 10), floats [-9, 9). Bounds outside
the dtype's finite range are clamped to it; integer bounds are rounded up.
"""

import collections.abc
import math
import warnings

import numpy as np

from tinygen import creation, dtypes


def _low_high(low, high, dtype, lowest, highest, default_low, default_high):
    """The range to draw from, after PyTorch's checks, clamping and rounding."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype.kind == "f":
        warnings.warn("Passing `low==high` to `make_tensor` for floating types is deprecated "
                      "in PyTorch since 2.1. Use `tg.full(...)` instead.", FutureWarning,
                      stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but tinygen.{dtype} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if dtype.kind != "f":
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` with values drawn uniformly from ``[low, high)``.

    ``noncontiguous=True`` returns every other column of a wider tensor (for two or more
    elements); ``exclude_zero=True`` replaces zeros by 1 (bool, integers) or the dtype's
    smallest normal number (floats). ``memory_format`` is accepted and must be None.
    """
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(int(n) for n in shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    try:
        dtype = dtypes.as_dtype(dtype)
    except TypeError:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        f"tinygen.testing.make_tensor().") from None
    if dtype.kind not in "biuf":
        raise TypeError(f"The requested dtype 'tinygen.{dtype}' is not supported by "
                        f"tinygen.testing.make_tensor().")
    if requires_grad and dtype.kind != "f":
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype=tinygen.{dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype.kind == "b":
        low, high = _low_high(low, high, dtype, 0, 2, 0, 2)
        result = creation.randint(low, high, shape, dtype=dtype, device=device)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        highest = int(info.max) + (1 if dtype != dtypes.int64 else 0)
        low, high = _low_high(low, high, dtype, int(info.min), highest, -9, 10)
        result = creation.randint(low, high, shape, dtype=dtype, device=device)
    else:
        info = np.finfo(dtype)
        low, high = _low_high(low, high, dtype, float(info.min), float(info.max), -9, 9)
        result = creation.empty(shape, dtype=dtype, device=device)
        if high - low >= float(info.max):         # the width would overflow: draw at half
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    if noncontiguous:
        result = result[..., 1::2]
    if exclude_zero:
        array = result.array
        array[array == 0] = 1 if dtype.kind != "f" else np.finfo(dtype).smallest_normal
    if dtype.kind == "f":
        result.requires_grad_(requires_grad)
    return result
