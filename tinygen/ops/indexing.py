"""Indexing: ``x[index]``, ``x[index] = v``, gather, index_select and masked_fill.

An index is anything NumPy accepts that PyTorch does too: ints (NumPy's included), slices (with
steps), ``None``, ``Ellipsis``, integer arrays and boolean masks (as tensors, arrays or lists,
which may hold 0-d tensors). A list is always an array, as in NumPy: PyTorch still reads some
lists (``x[[t0, t1]]`` of tensors) as tuples, with a deprecation warning. Basic indexing
(no arrays) gives a view. The backward of a read is a scatter-*add* into zeros, so an element read
twice (``x[[0, 0]]``) gets both gradients; the backward of that scatter is the read again.
"""

import math

import numpy as np

from tinygen import creation, device_checks, dtypes
from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module, to_device
from tinygen.errors import DtypeError, IndexArgumentError
from tinygen.ops.compare import where
from tinygen.ops.convert import cast
from tinygen.ops.out_param import accepts_out
from tinygen.tensor import Tensor


class GetItem(ArrayFunction):
    """y = x[index] for an index with integer-array or mask parts (a copy)."""
    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad_y):
        return IndexAdd.apply(grad_y, ctx.shape, ctx.index), None


class BasicGetItem(GetItem):
    """y = x[index] for ints, slices, None and Ellipsis only: a view, no copy."""
    is_view = is_plain_view = True


class IndexAdd(ArrayFunction):
    """y = zeros(shape) with ``values`` added at ``index`` (repeated positions add up)."""
    @staticmethod
    def forward(ctx, values, shape, index):
        ctx.index = index
        xp = get_array_module(values)
        if values.dtype == bool:                  # a sum of bools is their `or`, as in PyTorch
            return IndexAdd.forward(ctx, values.astype(np.int64), shape, index) != 0
        out = xp.zeros(shape, dtype=values.dtype)
        if _has_repeats(index):
            _scatter_add(xp, out, index, values)
        else:
            out[index] = values
        return out

    @staticmethod
    def backward(ctx, grad_y):
        return _getitem_numpy(grad_y, ctx.index), None, None


class IndexPut(ArrayFunction):
    """y = a copy of x with ``y[index] = value``: the gradient of x is zeroed where it was
    overwritten; value's gradient is what lands on the positions it was written to."""
    @staticmethod
    def forward(ctx, x, index, value):
        ctx.index = index
        out = x.copy()
        out[index] = value
        return out

    @staticmethod
    def backward(ctx, grad_y):
        grad_x = index_put(grad_y, ctx.index, 0) if ctx.needs_input_grad[0] else None
        grad_value = _getitem_numpy(grad_y, ctx.index) if ctx.needs_input_grad[2] else None
        return grad_x, None, grad_value


class CopySlices(ArrayFunction):
    """y = base with its elements at the flat (row-major) ``positions`` set to ``value``: the base
    of a view that an in-place op changed (PyTorch's name; see autograd/inplace.py). Its
    gradient is zeroed at those positions for base, and read from them for value."""
    @staticmethod
    def forward(ctx, base, positions, value):
        ctx.positions = positions
        out = base.copy()                           # row-major, so reshape(-1) is a view
        out.reshape(-1)[positions] = value
        return out

    @staticmethod
    def backward(ctx, grad_y):
        needs_base, _, needs_value = ctx.needs_input_grad
        grad_base = CopySlices.apply(grad_y, ctx.positions, 0) if needs_base else None
        grad_value = AsStrided.apply(grad_y, ctx.positions) if needs_value else None
        return grad_base, None, grad_value


class AsStrided(ArrayFunction):
    """y = the elements of base at the flat (row-major) ``positions``, in the positions' shape:
    a view re-derived from its base (PyTorch's name; see autograd/inplace.py). The gradient is
    scattered back, adding up where a position repeats (a view made by expand)."""
    @staticmethod
    def forward(ctx, base, positions):
        ctx.shape, ctx.positions = base.shape, positions
        return base.reshape(-1)[positions]

    @staticmethod
    def backward(ctx, grad_y):
        flat = IndexAdd.apply(grad_y, (math.prod(ctx.shape),), (ctx.positions,))
        return flat.reshape(ctx.shape), None


def view_positions(base, view):
    """Where the elements of the array ``view`` lie in the array ``base`` whose memory it shares:
    their flat (row-major) positions in ``base``, in ``view``'s shape. Each element of that
    memory is labelled with its position in ``base``, then the labels are read with ``view``'s
    layout (its start, shape and strides)."""
    xp = get_array_module(base)
    if view.size == 0:
        return xp.zeros(view.shape, dtype=np.int64)
    item = base.itemsize
    low, high = _byte_bounds(base)
    labels = xp.empty((high - low) // item, dtype=np.int64)    # one per element of memory

    def laid_out_like(array):
        start = (_address(array) - low) // item
        strides = tuple(s // item * labels.itemsize for s in array.strides)
        return xp.lib.stride_tricks.as_strided(labels[start:], array.shape, strides)

    laid_out_like(base)[...] = xp.arange(base.size).reshape(base.shape)
    return laid_out_like(view).copy()


def _byte_bounds(array):
    """The address of the lowest byte of (a non-empty) ``array`` and one past its highest."""
    start = _address(array)
    extents = [(n - 1) * s for n, s in zip(array.shape, array.strides)]
    return (start + sum(e for e in extents if e < 0),
            start + sum(e for e in extents if e > 0) + array.itemsize)


def _address(array):
    return array.ctypes.data if isinstance(array, np.ndarray) else array.data.ptr


def _has_repeats(index):
    """Integer arrays may name a position twice; slices, ints and masks cannot."""
    return any(hasattr(item, "dtype") and item.dtype.kind in "iu" for item in index)


def _scatter_add(xp, out, index, values):
    """out[index] += values, positions named twice adding up."""
    if xp is not np:
        import cupyx
        cupyx.scatter_add(out, index, values)
    elif len(index) == 1 and index[0].dtype.kind in "iu":
        _add_rows(out, index[0], values)
    else:
        np.add.at(out, index, values)


def _add_rows(out, ids, values):
    """out[ids] += values for integer ids along axis 0 (an embedding's gradient), through a sort:
    the rows of one id become a run that np.add.reduceat sums in one pass. np.add.at, a row at
    a time, was 5x slower for a GPT batch (1024 ids of 100, 128 wide)."""
    ids = ids.reshape(-1)
    if ids.size == 0:
        return
    ids = np.where(ids < 0, ids + out.shape[0], ids)           # -1 and n-1 are one row
    rows = values.reshape((ids.size,) + out.shape[1:])
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    out[sorted_ids[starts]] += np.add.reduceat(rows[order], starts, axis=0)


def _normalize_index(index, x):
    """The index as a tuple NumPy/CuPy understands, and whether it is basic (view) indexing."""
    if not isinstance(index, tuple):
        index = (index,)
    items, basic = [], True
    for item in index:
        if isinstance(item, (bool, np.bool_)):      # before int: True is an int too
            item = np.asarray(item)
        elif isinstance(item, (int, np.integer)):
            items.append(int(item))
            continue
        elif item is None or item is Ellipsis or isinstance(item, slice):
            items.append(item)
            continue
        elif isinstance(item, Tensor):
            item = item.array
        elif isinstance(item, (list, range)):       # [] selects nothing, as an empty int index
            item = creation.tensor(list(item), device=x.device).array if item else np.zeros(
                0, dtype=np.int64)
        elif isinstance(item, np.generic) or not hasattr(item, "__array_namespace__"):
            raise IndexError(f"unsupported index of type {type(item).__name__}; use ints, "
                             f"slices, None, Ellipsis, integer tensors or boolean masks")
        if item.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be integer or bool, got "
                             f"{item.dtype}")
        items.append(to_device(item, x.device))
        basic = False
    if basic and Ellipsis not in items:
        items.append(Ellipsis)              # so that x[0] of a 1-d x is a 0-d view, not a copy
    if not basic and device_checks.deferred(x.array):
        queue_bounds_checks(items, x.shape)
    return tuple(items), basic


def queue_bounds_checks(items, shape):
    """NumPy raises for an integer index out of bounds; CuPy wraps it around instead (a
    documented difference), silently reading another element. So on a GPU each integer-array
    index (on the indexed tensor's device by now) gets NumPy's check, queued on the device (see
    device_checks)."""
    def is_array(item, kinds):
        return hasattr(item, "dtype") and item.dtype.kind in kinds

    def dims_taken(item):                 # how many of x's dims an index item consumes
        return 0 if item is None else item.ndim if is_array(item, "b") else 1

    ellipsis_dims = len(shape) - sum(dims_taken(item) for item in items if item is not Ellipsis)
    axis = 0
    for item in items:
        if item is Ellipsis:
            axis += ellipsis_dims
            continue
        if is_array(item, "iu") and item.size and axis < len(shape):
            size, low, high = shape[axis], item.min(), item.max()
            device_checks.check(
                (low < -size) | (high >= size),
                lambda low, high, axis=axis, size=size: IndexError(
                    f"index {low if low < -size else high} is out of bounds for axis {axis} "
                    f"with size {size}"),
                low, high, op="indexing")
        axis += dims_taken(item)


def _block_move(index, ndim):
    """Where NumPy and PyTorch put the dims of the advanced (array) indices in the result, as
    (numpy's position, PyTorch's position, how many dims are not from them), or None where the
    two agree. PyTorch applies ints (0-d integer tensors too) first, as selections, so they
    neither join nor separate the arrays: ``x[0, :, [1]]`` is (3, 1) for x of shape (2, 3, 2)
    in PyTorch, (1, 3) in NumPy."""
    def is_array(item, zero_d):
        return hasattr(item, "dtype") and (item.ndim > 0 or zero_d or item.dtype.kind == "b")

    def taken(item):
        return 0 if item is None else item.ndim if is_array(item, True) and \
            item.dtype.kind == "b" else 1

    def out_dims(item):             # result dims that a non-advanced item makes
        if item is Ellipsis:
            return ndim - sum(taken(i) for i in index if i is not Ellipsis)
        return 1 if item is None or isinstance(item, slice) else 0

    if not any(item is Ellipsis for item in index):
        index = tuple(index) + (Ellipsis,)          # the dims left over count too

    def position(advanced):
        if not advanced or advanced != list(range(advanced[0], advanced[-1] + 1)):
            return 0
        return sum(out_dims(item) for item in index[:advanced[0]])

    ours = [i for i, item in enumerate(index) if is_array(item, True) or isinstance(item, int)]
    theirs = [i for i, item in enumerate(index) if is_array(item, False)]
    if not theirs or position(ours) == position(theirs):
        return None
    basic = sum(out_dims(item) for item in index if not is_array(item, True))
    return position(ours), position(theirs), basic


def _move_block(y, start, to, basic):
    """y with its dims start..start+n (n = y.ndim - basic) moved to begin at ``to``."""
    from tinygen.ops.shape import permute
    n = y.ndim - basic
    rest = [d for d in range(y.ndim) if not start <= d < start + n]
    return permute(y, *(rest[:to] + list(range(start, start + n)) + rest[to:]))


def _getitem_numpy(x, index):
    """x[index] with NumPy's placement of the advanced-index dims (the backward's own)."""
    index, basic = _normalize_index(index, x)
    return (BasicGetItem if basic else GetItem).apply(x, index)


def getitem(x, index):
    index, basic = _normalize_index(index, x)
    if basic:
        return BasicGetItem.apply(x, index)
    y = GetItem.apply(x, index)
    move = _block_move(index, x.ndim)
    return y if move is None else _move_block(y, *move)


def check_setitem_dtype(x, index, value):
    """``x[index] = value`` with ``value`` a tensor of another dtype: PyTorch casts it for basic
    indices (and for a 0-d value under one mask, a masked_fill), but its index_put_ refuses it
    for integer-array and mask indices; so does tinygen's ``__setitem__``."""
    if value.ndim == 0 and isinstance(index, Tensor) and index.dtype == dtypes.bool:
        return
    if not _normalize_index(index, x)[1]:
        raise DtypeError(f"Index put requires the source and destination dtypes match, got "
                         f"{x.dtype} for the destination and {value.dtype} for the source.")


def index_put(x, index, value, accumulate=False):
    """``x`` with ``x[index] = value`` applied, out of place (``x[index] = v`` uses it in place);
    with ``accumulate=True``, ``x[index] += value`` with repeated positions adding up. A list of
    (not 0-d) tensors is a tuple of indices, one per dim, as ``torch.index_put`` reads it."""
    if isinstance(index, list) and index and all(
            isinstance(item, Tensor) and item.ndim for item in index):
        index = tuple(index)
    index, basic = _normalize_index(index, x)
    if isinstance(value, Tensor):
        if value.dtype != x.dtype:
            value = value.to(x.dtype)
        if value.device != x.device:
            raise RuntimeError(f"index_put: value is on {value.device} but the tensor is on "
                               f"{x.device}")
        move = None if basic else _block_move(index, x.ndim)
        if move is not None:            # value is shaped as PyTorch's x[index]: into NumPy's
            from tinygen.ops.shape import expand
            shape = list(get_array_module(x.array).empty(x.shape, dtype=bool)[index].shape)
            n = len(shape) - move[2]
            block = shape[move[0]:move[0] + n]
            del shape[move[0]:move[0] + n]
            shape[move[1]:move[1]] = block
            value = _move_block(expand(value, tuple(shape)), move[1], move[0], move[2])
    if not accumulate:
        return IndexPut.apply(x, index, value)
    if not isinstance(value, Tensor):
        value = Tensor(get_array_module(x.array).asarray(value, dtype=x.dtype))
    shape = get_array_module(x.array).empty(x.shape, dtype=bool)[index].shape
    from tinygen.ops.shape import expand
    if x.dtype.kind == "b":             # bools accumulate by logical or, as in PyTorch
        hits = IndexAdd.apply(expand(value, shape).long(), x.shape, index)
        return where(hits > 0, True, x)
    return x + IndexAdd.apply(expand(value, shape), x.shape, index)


def check_in_range(index, size, axis, op):
    """Refuse an index array with an entry outside [0, size): gather, scatter and the index_*
    ops take no negative positions in PyTorch (NumPy would wrap them, a silent wrong answer).
    Deferred on a GPU, as every value check (see device_checks)."""
    if index.size:
        low, high = index.min(), index.max()
        device_checks.check(
            (low < 0) | (high >= size),
            lambda low, high: IndexArgumentError(
                f"{op}(): index {low if low < 0 else high} is out of bounds for dimension "
                f"{axis} with size {size}"),
            low, high, op=op)


@accepts_out()
def gather(x, dim, index):
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim=1 (PyTorch's gather)."""
    from tinygen.ops.shape import normalize_dim, reshape
    axis = normalize_dim(dim, x.ndim, "gather")
    index = index.array if isinstance(index, Tensor) else index
    if index.size == 0:                      # PyTorch checks nothing else of an empty index
        none = get_array_module(index).zeros(0, dtype=np.int64)
        return reshape(getitem(reshape(x, -1), none), index.shape)
    if x.ndim == 0 and index.ndim <= 1:      # as a 1-element vector, in the index's shape
        return reshape(gather(reshape(x, 1), 0, index.reshape(-1)), index.shape)
    if index.ndim != x.ndim:
        raise RuntimeError(f"gather: index has {index.ndim} dims but input has {x.ndim}")
    if index.dtype.kind not in "iu":
        raise IndexArgumentError(f"gather(): expected dtype int32/int64 for index, got "
                                 f"{index.dtype} (tensors used as indices must be integer or "
                                 f"bool)")
    if any(n > m for d, (n, m) in enumerate(zip(index.shape, x.shape)) if d != axis):
        raise IndexArgumentError(f"gather(): size does not match: expected index "
                                 f"{list(index.shape)} to be no larger than self "
                                 f"{list(x.shape)} apart from dimension {axis}")
    check_in_range(index, x.shape[axis], axis, "gather")
    xp = get_array_module(index)
    grid = list(xp.ogrid[tuple(slice(0, n) for n in index.shape)]) if index.ndim else []
    grid[axis] = index
    return getitem(x, tuple(grid))


def masked_fill(x, mask, value):
    """x with ``value`` (a number or a 0-d tensor) where the bool ``mask`` is True; mask
    broadcasts against x. The value takes x's dtype, as in PyTorch: an integer tensor filled
    with 2.7 holds 2."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {type(mask).__name__}")
    if mask.dtype != dtypes.bool:
        raise RuntimeError(f"masked_fill only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}; use mask.bool() or a comparison such as mask != 0")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got "
                           f"one of shape {tuple(value.shape)}")
    number = value.item() if isinstance(value, Tensor) else value
    if x.dtype.kind != "c" and isinstance(number, complex) and number.imag != 0:
        raise RuntimeError(f"masked_fill: value {number} cannot be converted to type {x.dtype} "
                           f"without overflow")
    if isinstance(value, Tensor):
        value = value if value.dtype == x.dtype else cast(value, x.dtype)
    else:
        # a Python number never widens x; a complex one with no imaginary part fits a real x
        value = x.dtype.type(value if x.dtype.kind == "c" else value.real).item()
    return where(mask, value, x)


@accepts_out()
def index_select(input, dim, index):
    """The entries at ``index`` (a 1-D or 0-d integer tensor) along ``dim``; repeated entries are
    copied, and their gradients add up."""
    from tinygen.ops.shape import normalize_dim, reshape
    axis = normalize_dim(dim, input.ndim, "index_select")
    array = index.array if isinstance(index, Tensor) else np.asarray(index)
    if array.ndim > 1 or array.dtype.kind not in "iu":
        raise IndexArgumentError(f"index_select: index must be a 1-D integer tensor, got "
                                 f"shape {tuple(array.shape)} and dtype {array.dtype}")
    if input.ndim == 0:                      # as a 1-element vector, back to 0-d
        return reshape(index_select(reshape(input, 1), 0, array), ())
    check_in_range(array, input.shape[axis], axis, "index_select")
    return getitem(input, (slice(None),) * axis + (array.reshape(-1),))
