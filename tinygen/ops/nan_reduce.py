"""Reductions that skip NaN (nansum, nanmean, nanmedian), and count_nonzero.

``dim`` and ``keepdim`` mean what they mean for sum and median (reduce.py, statistics.py). NaN
elements get gradient 0.
"""

import numpy as np

from tinygen import dtypes
from tinygen.backend import get_array_module
from tinygen.ops.compare import isnan, logical_not, where
from tinygen.ops.indexing import gather
from tinygen.ops.reduce import sum, values_indices
from tinygen.ops.shape import normalize_dim, normalize_dims, reshape, squeeze
from tinygen.tensor import Tensor


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum with NaN taken as 0; integer and bool inputs give int64, as sum does."""
    if input.dtype.kind == "f":
        input = where(isnan(input), 0, input)
    return sum(input, dim, keepdim, dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the elements that are not NaN (NaN where all are). The input must be
    floating point, as in PyTorch (``dtype`` does not let an integer input through)."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got "
                           f"{input.dtype}")
    if dtype is not None:
        if dtypes.as_dtype(dtype).kind not in "fc":
            raise RuntimeError(f"nanmean(): could not infer output dtype. Optional dtype must "
                               f"be either a floating point or complex dtype. Got: {dtype}")
        input = input.to(dtype)
    count = sum(logical_not(isnan(input)), dim, keepdim)
    with np.errstate(invalid="ignore"):         # 0 / 0 = NaN where every element is NaN
        return nansum(input, dim, keepdim) / count.to(input.dtype)


def nanmedian(input, dim=None, keepdim=False):
    """The lower median of the elements that are not NaN (NaN where all are): of all elements
    when ``dim`` is None, else (values, indices) along ``dim``. Among equal values, and in a
    row of NaN only, which index is returned may differ from PyTorch's."""
    if dim is None:
        if input.numel() == 0:
            xp = get_array_module(input.array)
            return Tensor(xp.asarray(float("nan"), dtype=input.dtype))
        _refuse_bool(input)
        return _nanmedian_along(reshape(input, -1), 0, False).values
    axis = normalize_dim(dim, input.ndim, "nanmedian")
    if input.ndim == 0:                          # as a 1-element vector: 0-d values and indices
        _refuse_bool(input)
        return _nanmedian_along(reshape(input, 1), 0, False)
    if input.shape[axis] == 0:
        raise IndexError(f"nanmedian(): Expected reduction dim {axis} to have non-zero size")
    _refuse_bool(input)
    return _nanmedian_along(input, axis, keepdim)


def _refuse_bool(x):
    if x.dtype.kind == "b":                     # NotImplementedError, as PyTorch
        raise NotImplementedError("nanmedian(): not implemented for bool input")


def _nanmedian_along(x, axis, keepdim):
    """Sorting puts NaN last, so the median of the n numbers in a row sits at (n - 1) // 2."""
    xp = get_array_module(x.array)
    order = xp.argsort(x.array, axis=axis)
    count = (~xp.isnan(x.array)).sum(axis=axis, keepdims=True)
    index = xp.take_along_axis(order, xp.maximum(count - 1, 0) // 2, axis=axis)
    values = gather(x, axis, index)          # the gradient goes to the median element only
    if not keepdim:
        values, index = squeeze(values, axis), index.squeeze(axis)
    return values_indices(values, Tensor(index.astype(dtypes.int64, copy=False)))


def count_nonzero(input, dim=None):
    """How many elements are nonzero, over ``dim`` (an int, a tuple or None for all), as int64."""
    xp = get_array_module(input.array)
    axes = normalize_dims(dim, input.ndim, "count_nonzero")
    counts = xp.count_nonzero(input.array, axis=axes)
    return Tensor(xp.asarray(counts, dtype=dtypes.int64))
