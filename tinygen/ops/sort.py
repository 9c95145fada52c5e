"""Ordering: sort, argsort and topk along a dim.

The order is found on the raw array (it has no gradient); the values are then read with
``gather``, so each value's gradient goes back to the element it came from, as in PyTorch.
"""

from tinygen import dtypes
from tinygen.backend import get_array_module
from tinygen.ops.indexing import gather
from tinygen.ops.reduce import values_indices
from tinygen.ops.shape import normalize_dim
from tinygen.tensor import Tensor


def _order_key(array, descending):
    """An array whose ascending order is the wanted order (for topk's partial sort): negated for
    descending (bools as int8, so that they can be negated; unsigned ints widened to int64)."""
    if not descending:
        return array
    if array.dtype.kind == "b":
        array = array.astype("int8")
    elif array.dtype.kind == "u":
        array = array.astype("int64")
    return -array


def _argsort(array, axis, descending):
    xp = get_array_module(array)
    if not descending:
        return xp.argsort(array, axis=axis, kind="stable")
    # The reversed ascending order of the reversed array: descending, with ties in their
    # original order and NaN first, as PyTorch (negating would put NaN last).
    order = xp.flip(xp.argsort(xp.flip(array, axis), axis=axis, kind="stable"), axis)
    return array.shape[axis] - 1 - order


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (int64). Ties keep their original order
    (PyTorch only promises that with ``stable=True``); NaN counts as the largest value."""
    if input.ndim == 0:
        return Tensor(get_array_module(input.array).zeros((), dtype=dtypes.int64))
    axis = normalize_dim(dim, input.ndim, "argsort")
    return Tensor(_argsort(input.array, axis, descending).astype(dtypes.int64, copy=False))


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) of ``input`` sorted along ``dim``; values are differentiable."""
    indices = argsort(input, dim, descending, stable)
    values = gather(input, dim, indices) if input.ndim else input
    return values_indices(values, indices)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the ``k`` largest (``largest=False``: smallest) entries along
    ``dim``, in order (also with ``sorted=False``, where PyTorch allows any order). A partial
    sort (argpartition) finds them; only those k are sorted."""
    if input.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes (as in PyTorch); call .long() "
                           "first")
    if input.ndim == 0:
        if k not in (0, 1):
            raise RuntimeError(f"topk: k ({k}) out of range for a 0-d tensor")
        return sort(input)
    axis = normalize_dim(dim, input.ndim, "topk")
    n = input.shape[axis]
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k ({k}) out of range for dim {dim} of size "
                           f"{n} (shape {tuple(input.shape)})")
    xp = get_array_module(input.array)
    if largest and input.dtype.kind == "f" and bool(xp.isnan(input.array).any()):
        # NaN is the largest value (as in PyTorch), but the negated key would sort it last
        indices = _argsort(input.array, axis, True)[(slice(None),) * axis + (slice(0, k),)]
        indices = indices.astype(dtypes.int64, copy=False)
        return values_indices(gather(input, axis, indices), Tensor(indices))
    key = _order_key(input.array, largest)
    if 0 < k < n:
        picked = xp.take(xp.argpartition(key, k - 1, axis=axis), xp.arange(k), axis=axis)
    else:
        picked = xp.argsort(key, axis=axis, kind="stable")[(slice(None),) * axis + (
            slice(0, k),)]
    order = xp.argsort(xp.take_along_axis(key, picked, axis=axis), axis=axis, kind="stable")
    indices = xp.take_along_axis(picked, order, axis=axis).astype(dtypes.int64, copy=False)
    return values_indices(gather(input, axis, indices), Tensor(indices))
