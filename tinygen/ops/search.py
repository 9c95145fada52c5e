"""Searching and counting, outside the graph (their results are integer positions and counts):
searchsorted, bucketize, bincount, unique, unique_consecutive, histc and histogram."""

import math
from collections import namedtuple

import numpy as np

from tinygen import dtypes
from tinygen.backend import get_array_module
from tinygen.tensor import Tensor


def _positions(array, out_int32):
    return Tensor(array.astype(dtypes.int32 if out_int32 else dtypes.int64, copy=False))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where each value of ``input`` would go in ``sorted_sequence`` (sorted along its last dim)
    to keep it sorted: the first such place, or the last with ``right=True`` / side='right'. An
    N-D sequence is searched row by row, with input's matching rows."""
    side = side or ("right" if right else "left")
    seq = sorted_sequence.array
    values = input.array if isinstance(input, Tensor) else get_array_module(seq).asarray(input)
    xp = get_array_module(seq)
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter.array, axis=-1)
    if seq.ndim == 1:
        return _positions(xp.searchsorted(seq, values, side=side), out_int32)
    if seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(f"searchsorted: boundaries tensor should be 1 dimension or the first "
                           f"N-1 dimensions of boundaries tensor and input value tensor must "
                           f"match, but we got boundaries tensor {tuple(seq.shape)} and input "
                           f"value tensor {tuple(values.shape)}")
    count = math.prod(seq.shape[:-1])               # not -1: ambiguous with a size-0 dim
    rows = seq.reshape(count, seq.shape[-1])
    wanted = values.reshape(count, values.shape[-1])
    out = xp.stack([xp.searchsorted(row, v, side=side) for row, v in zip(rows, wanted)]
                   ) if count else xp.zeros(values.shape, dtype=np.int64)
    return _positions(out.reshape(values.shape), out_int32)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value of ``input`` between the sorted 1-D ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i] (with ``right=True``, boundaries[i-1] <= x <
    boundaries[i])."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim "
                           f"{boundaries.ndim}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ... occurs in the 1-D non-negative integer ``input`` (or the
    sum of ``weights`` at its positions), at least ``minlength`` bins."""
    if input.dtype.kind == "b":                    # NotImplementedError, as PyTorch
        raise NotImplementedError("bincount: not implemented for bool input; call .long() first")
    if input.ndim != 1 or input.dtype.kind not in "iu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got shape "
                           f"{tuple(input.shape)} and dtype {input.dtype}")
    xp = get_array_module(input.array)
    if input.numel() and int(input.array.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs")
    if weights is None or not input.numel():   # PyTorch: int64 zeros for an empty input
        return Tensor(xp.bincount(input.array, minlength=minlength).astype(dtypes.int64))
    counts = xp.bincount(input.array, weights=weights.array, minlength=minlength)
    # PyTorch accumulates float32 weights in float32 and any others in float64
    dtype = dtypes.float32 if weights.dtype == dtypes.float32 else dtypes.float64
    return Tensor(counts.astype(dtype, copy=False))


def _check_unique_dim(input, dim):
    """PyTorch refuses slices along ``dim`` when a dim other than ``dim`` has size 0."""
    if dim is None:
        return
    empty = [d for d, side in enumerate(input.shape) if side == 0]
    if len(empty) > 1:
        raise RuntimeError(f"Number of zero sized dimensions is more than one, so unique cannot "
                           f"be applied (shape {tuple(input.shape)}, dim {dim})")
    if empty and empty[0] != dim % max(input.ndim, 1):
        raise RuntimeError(f"There are 0 sized dimensions, and they aren't selected, so unique "
                           f"cannot be applied (shape {tuple(input.shape)}, dim {dim})")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of input (flattened; or the distinct slices along ``dim``), in
    ascending order (``sorted=False`` sorts too, which PyTorch allows), optionally with the
    inverse indices (input's shape, or dim's length) and the counts (int64 tensors)."""
    xp = get_array_module(input.array)
    _check_unique_dim(input, dim)
    axis = None if dim is None else dim % max(input.ndim, 1)
    # PyTorch keeps every NaN apart (NaN != NaN); NumPy's default merges them
    nan = {"equal_nan": False} if input.dtype.kind == "f" and bool(xp.isnan(input.array).any()) \
        else {}
    values, inverse, counts = xp.unique(input.array, return_inverse=True, return_counts=True,
                                        axis=axis, **nan)
    out = [Tensor(values)]
    if return_inverse:
        shape = input.shape if dim is None else (input.shape[axis],)
        out.append(Tensor(inverse.reshape(shape).astype(dtypes.int64, copy=False)))
    if return_counts:
        out.append(Tensor(counts.astype(dtypes.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


def histc(input, bins=100, min=0, max=0):
    """Counts in ``bins`` equal bins between min and max (elements outside are ignored); with
    min == max the data's own range is used, widened by 1 on both sides if it is one value."""
    if input.dtype.kind != "f":                    # NotImplementedError, as PyTorch
        raise NotImplementedError(f"histc: input must be a floating point tensor, got "
                                  f"{input.dtype}")
    low, high = float(min), float(max)
    if low == high and input.numel():
        low, high = float(input.array.min()), float(input.array.max())
    if low == high:
        low, high = low - 1, high + 1
    if low > high:
        raise RuntimeError(f"histc: max must be larger than min, got min {min} and max {max}")
    xp = get_array_module(input.array)
    counts, _ = xp.histogram(input.array, bins=bins, range=(low, high))
    return Tensor(counts.astype(input.dtype))


def histogram(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges): the counts (or summed ``weight``) of input in ``bins`` equal bins over
    ``range`` (default: the data's range), or between the sorted edges of a 1-D tensor
    ``bins``; ``density=True`` divides by the total and the bin widths, as NumPy."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"histogram: input must be a floating point tensor, got "
                           f"{input.dtype}")
    xp = get_array_module(input.array)
    edges = bins.array if isinstance(bins, Tensor) else bins
    hist, edges = xp.histogram(input.array.reshape(-1), bins=edges, range=range,
                               density=density,
                               weights=None if weight is None else weight.array.reshape(-1))
    return histogram_result(Tensor(hist.astype(input.dtype)), Tensor(edges.astype(input.dtype)))


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The input with each run of equal consecutive values (or slices along ``dim``) kept once,
    optionally with the inverse indices and the run lengths (int64 tensors)."""
    xp = get_array_module(input.array)
    _check_unique_dim(input, dim)
    if dim is None:
        x, axis = input.array.reshape(-1), 0
    else:
        axis = dim % max(input.ndim, 1)
        x = xp.moveaxis(input.array, axis, 0)
    n = x.shape[0]
    changed = (x[1:] != x[:-1]).reshape(max(n - 1, 0), math.prod(x.shape[1:])).any(axis=1)
    starts = xp.flatnonzero(xp.concatenate([xp.ones(min(n, 1), dtype=bool), changed]))
    values = x[starts] if dim is None else xp.moveaxis(x[starts], 0, axis)
    out = [Tensor(xp.ascontiguousarray(values))]
    if return_inverse:
        inverse = xp.cumsum(xp.concatenate([xp.zeros(min(n, 1), dtype=np.int64),
                                            changed.astype(np.int64)]))
        out.append(Tensor(inverse.reshape(input.shape if dim is None else (n,))))
    if return_counts:
        out.append(Tensor(xp.diff(xp.append(starts, n)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)
