"""Searching and counting, outside the graph (their results are integer positions and counts):
searchsorted, bucketize, bincount and unique."""

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
    rows = seq.reshape(-1, seq.shape[-1])
    wanted = values.reshape(rows.shape[0], -1)
    out = xp.stack([xp.searchsorted(row, v, side=side) for row, v in zip(rows, wanted)])
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
    if input.ndim != 1 or input.dtype.kind not in "iu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got shape "
                           f"{tuple(input.shape)} and dtype {input.dtype}")
    xp = get_array_module(input.array)
    if input.numel() and int(input.array.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs")
    if weights is None:
        return Tensor(xp.bincount(input.array, minlength=minlength).astype(dtypes.int64))
    counts = xp.bincount(input.array, weights=weights.array, minlength=minlength)
    dtype = weights.dtype if weights.dtype.kind == "f" else dtypes.float64
    return Tensor(counts.astype(dtype, copy=False))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of input (flattened; or the distinct slices along ``dim``), in
    ascending order (``sorted=False`` sorts too, which PyTorch allows), optionally with the
    inverse indices (input's shape, or dim's length) and the counts (int64 tensors)."""
    xp = get_array_module(input.array)
    axis = None if dim is None else dim % max(input.ndim, 1)
    values, inverse, counts = xp.unique(input.array, return_inverse=True, return_counts=True,
                                        axis=axis)
    out = [Tensor(values)]
    if return_inverse:
        shape = input.shape if dim is None else (input.shape[axis],)
        out.append(Tensor(inverse.reshape(shape).astype(dtypes.int64, copy=False)))
    if return_counts:
        out.append(Tensor(counts.astype(dtypes.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)
