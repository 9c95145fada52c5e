"""Writing along an index: index_add, index_copy, index_fill, index_reduce, take, put, select
and the ``*_scatter`` ops (select, slice, diagonal), masked_scatter, argwhere, unfold (sliding
windows) and fill_diagonal.

All but unfold are built from getitem, index_put and IndexAdd (ops/indexing.py), so their
gradients are those ops': an element overwritten gets no gradient, one added to passes it on.
index_reduce is scatter_reduce with the index spread over source's shape, so its gradient is
scatter_reduce's (PyTorch's index_reduce_backward is the same formula).
"""

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.errors import DtypeError, IndexArgumentError
from tinygen.ops.compare import nonzero
from tinygen.ops.indexing import IndexAdd, check_in_range, getitem, index_put, masked_fill
from tinygen.ops.out_param import accepts_out
from tinygen.ops.shape import broadcast_to, normalize_dim, reshape, strided_view
from tinygen.tensor import Tensor


def _index_along(input, dim, index, op):
    """The index tuple that picks the 1-D (or 0-d) integer ``index`` along ``dim``."""
    axis = normalize_dim(dim, input.ndim, op)
    array = index.array if isinstance(index, Tensor) else get_array_module(
        input.array).asarray(index)
    if array.ndim > 1 or array.dtype.kind not in "iu":
        raise IndexArgumentError(f"{op}(): index must be a 1-D integer tensor, got shape "
                                 f"{tuple(array.shape)} and dtype {array.dtype}")
    return axis, (slice(None),) * axis + (array.reshape(-1),)


def _check_source(input, axis, index, source, op):
    """Source must have input's shape with dim ``axis`` as long as the index, and its dtype;
    the index must lie inside that dim."""
    if input.ndim:
        check_in_range(index, input.shape[axis], axis, op)
    if source.dtype != input.dtype:
        raise DtypeError(f"{op}_(): self and source expected to have the same dtype, but got "
                         f"(self) {input.dtype} and (source) {source.dtype}")
    want = input.shape[:axis] + (index.shape[0],) + input.shape[axis + 1:]
    if tuple(source.shape) != want and not (input.ndim == 0 and source.numel() == 1):
        raise RuntimeError(f"{op}(): source of shape {tuple(source.shape)} does not fit input "
                           f"of shape {tuple(input.shape)} with {index.shape[0]} indices along "
                           f"dim {axis} (expected {want})")
    return source


def _as_vector(op, input, dim, *args, **kwargs):
    """``op`` on a 0-d input as on a 1-element vector (PyTorch's rule for the index_* ops),
    the result back to 0-d."""
    normalize_dim(dim, 0, op.__name__)
    return reshape(op(reshape(input, (1,)), 0, *args, **kwargs), ())


def index_add(input, dim, index, source, *, alpha=1):
    """input with alpha * source[..., i, ...] added at [..., index[i], ...] along ``dim``;
    repeated indices add up."""
    if input.ndim == 0:
        return _as_vector(index_add, input, dim, index, reshape(source, (-1,)), alpha=alpha)
    axis, where = _index_along(input, dim, index, "index_add")
    source = _check_source(input, axis, where[-1], source, "index_add")
    source = source if alpha == 1 else source * alpha
    # the index length, not -1: -1 is ambiguous when another dim is 0
    return input + IndexAdd.apply(reshape(source, input.shape[:axis] + where[-1].shape
                                          + input.shape[axis + 1:]), input.shape, where)


def index_copy(input, dim, index, source):
    """input with source[..., i, ...] written to [..., index[i], ...] along ``dim``."""
    if input.ndim == 0:
        return _as_vector(index_copy, input, dim, index, reshape(source, (-1,)))
    axis, where = _index_along(input, dim, index, "index_copy")
    source = _check_source(input, axis, where[-1], source, "index_copy")
    return index_put(input, where, reshape(source, input.shape[:axis] + where[-1].shape
                                           + input.shape[axis + 1:]))


def index_fill(input, dim, index, value):
    """input with ``value`` (a number or a 0-d tensor) at the positions ``index`` along dim.
    Written as masked_fill, so a position named twice takes (and passes back) value once."""
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"index_fill(): only supports a 0-dimensional value tensor, but got "
                           f"one of shape {tuple(value.shape)}")
    if input.ndim == 0:
        return _as_vector(index_fill, input, dim, index, value)
    axis, where = _index_along(input, dim, index, "index_fill")
    size, xp = input.shape[axis], get_array_module(input.array)
    ids = xp.where(where[-1] < 0, where[-1] + size, where[-1])   # negative ones count back
    check_in_range(ids, size, axis, "index_fill")
    mask = xp.zeros(size, dtype=bool)
    mask[ids] = True
    return masked_fill(input, Tensor(mask.reshape((size,) + (1,) * (input.ndim - axis - 1))),
                       value)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """input with source[..., i, ...] combined into [..., index[i], ...] along ``dim`` by
    ``reduce``: 'prod', 'mean', 'amax' or 'amin'; input's own slice takes part unless
    ``include_self=False``. Integer means round down, as in PyTorch."""
    from tinygen.ops.scatter_ops import scatter_reduce
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    axis, where = _index_along(input, dim, index, "index_reduce")
    ids = where[-1]
    source = _check_source(input, axis, ids, source, "index_reduce")
    if input.ndim == 0:
        return scatter_reduce(input, 0, Tensor(ids.reshape(())), reshape(source, ()), reduce,
                              include_self=include_self)
    spread = [1] * input.ndim
    spread[axis] = ids.size
    xp = get_array_module(ids)
    full = xp.broadcast_to(ids.reshape(spread), source.shape)     # index[i] at every [.., i, ..]
    return scatter_reduce(input, axis, Tensor(full), source, reduce, include_self=include_self)


@accepts_out()
def take(input, index):
    """input's elements at the flat (row-major) positions ``index``, in index's shape."""
    return getitem(reshape(input, -1), index)


def put(input, index, source, accumulate=False):
    """input with the elements of ``source`` written to (or, accumulating, added at) the flat
    positions ``index``."""
    array = index.array if isinstance(index, Tensor) else index
    if source.numel() != array.size:
        raise RuntimeError(f"put(): index has {array.size} elements but source has "
                           f"{source.numel()} (shape {tuple(source.shape)})")
    flat = index_put(reshape(input, -1), (array.reshape(-1),), reshape(source, -1),
                     accumulate=accumulate)
    return reshape(flat, input.shape)


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, without that dim (a view)."""
    axis = normalize_dim(dim, input.ndim, "select")
    size = input.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{tuple(input.shape)} at dimension {dim}")
    return getitem(input, (slice(None),) * axis + (int(index),))


def _scatter_into(input, where, src, expected, op):
    """input with src written to input[where], after checking src's shape is ``expected``."""
    if tuple(src.shape) != tuple(expected):
        raise RuntimeError(f"{op}(): expected src to have a size equal to the slice of input. "
                           f"src size = {tuple(src.shape)}, slice size = {tuple(expected)}")
    return index_put(input, where, src if src.dtype == input.dtype else src.to(input.dtype))


def select_scatter(input, src, dim, index):
    """input with ``src`` written to the slice ``input.select(dim, index)``."""
    axis = normalize_dim(dim, input.ndim, "select_scatter")
    return _scatter_into(input, (slice(None),) * axis + (int(index),), src,
                         input.shape[:axis] + input.shape[axis + 1:], "select_scatter")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """input with ``src`` written to the slice start:end:step along ``dim``."""
    axis = normalize_dim(dim, input.ndim, "slice_scatter")
    where = (slice(None),) * axis + (slice(start, end, step),)
    length = len(range(*where[-1].indices(input.shape[axis])))
    expected = input.shape[:axis] + (length,) + input.shape[axis + 1:]
    return _scatter_into(input, where, src, expected, "slice_scatter")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """input with ``src`` written to ``input.diagonal(offset, dim1, dim2)``."""
    from tinygen.ops.rearrange import diagonal, movedim
    a = normalize_dim(dim1, input.ndim, "diagonal_scatter")
    b = normalize_dim(dim2, input.ndim, "diagonal_scatter")
    expected = diagonal(input.detach(), offset, a, b).shape
    x = movedim(input, (a, b), (-2, -1))               # the diagonal's dims last
    xp = get_array_module(input.array)
    i = xp.arange(expected[-1]) + max(0, -offset)
    out = _scatter_into(x, (Ellipsis, i, i + offset), src, expected, "diagonal_scatter")
    return movedim(out, (-2, -1), (a, b))


def masked_scatter(input, mask, source):
    """input (broadcast with the bool ``mask``) with source's first elements written, in
    order, where mask is True."""
    if mask.dtype.kind != "b":
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {mask.dtype}")
    xp = get_array_module(input.array)
    shape = xp.broadcast_shapes(input.shape, mask.shape)
    chosen = xp.broadcast_to(mask.array, shape)
    count = int(chosen.sum())
    if source.numel() < count:
        raise RuntimeError(f"masked_scatter: the mask selects {count} elements but source has "
                           f"only {source.numel()} (shape {tuple(source.shape)})")
    values = getitem(reshape(source, -1), slice(0, count))
    return index_put(broadcast_to(input, shape), (chosen,), values.to(input.dtype))


def argwhere(input):
    """The indices of the nonzero elements, one row (of input.ndim indices) each."""
    return nonzero(input)


class Unfold(ArrayFunction):
    """y = the windows of ``size`` elements, ``step`` apart, along ``axis``, as a new last dim
    (read-only strided memory of x, a view that shares x's version counter); the gradient of
    overlapping windows adds up where they share elements."""
    is_view = True

    @staticmethod
    def forward(ctx, x, axis, size, step):
        ctx.shape, ctx.axis, ctx.size, ctx.step = x.shape, axis, size, step
        count = (x.shape[axis] - size) // step + 1
        shape = x.shape[:axis] + (count,) + x.shape[axis + 1:] + (size,)
        strides = (x.strides[:axis] + (x.strides[axis] * step,) + x.strides[axis + 1:]
                   + (x.strides[axis],))
        windows = strided_view(x, shape, strides)
        if isinstance(windows, np.ndarray):     # CuPy arrays have no read-only flag
            windows.flags.writeable = False     # one element may lie in several windows
        return windows

    @staticmethod
    def backward(ctx, grad_y):
        from tinygen.ops.rearrange import movedim
        axis, size = ctx.axis, ctx.size
        xp = get_array_module(grad_y.array)
        count = grad_y.shape[axis]
        windows = xp.arange(count)[:, None] * ctx.step + xp.arange(size)   # (count, size)
        where = (slice(None),) * axis + (windows,)
        return IndexAdd.apply(movedim(grad_y, -1, axis + 1), ctx.shape, where), None, None, None


def unfold(input, dimension, size, step):
    """``x.unfold(dimension, size, step)``: every window of ``size`` elements, ``step`` apart,
    along ``dimension``, as a new last dim (read-only; it shares x's memory, as a view)."""
    axis = normalize_dim(dimension, input.ndim, "unfold")
    length = input.shape[axis] if input.ndim else 1
    if not 0 <= size <= length or step <= 0:
        raise RuntimeError(f"unfold(): size {size} must be in [0, {length}] (dim {dimension} of "
                           f"shape {tuple(input.shape)}) and step {step} must be positive")
    if input.ndim == 0:
        return reshape(input, (1,))
    return Unfold.apply(input, axis, size, step)


def fill_diagonal(input, fill_value, wrap=False):
    """input with ``fill_value`` on its main diagonal (all dims equal when more than 2); a tall
    matrix restarts the diagonal every (cols + 1) rows with ``wrap``, as NumPy's
    fill_diagonal."""
    if input.ndim < 2 or (input.ndim > 2 and len(set(input.shape)) != 1):
        raise RuntimeError(f"fill_diagonal_(): all dimensions of input must be of equal length "
                           f"(and at least 2 dims), got shape {tuple(input.shape)}")
    rows, cols = input.shape[0], input.shape[-1]
    xp = get_array_module(input.array)
    if input.ndim == 2:
        step = cols + 1
        end = rows * cols if wrap or rows <= cols else cols * cols
    else:
        step = sum(cols ** k for k in range(input.ndim))
        end = input.numel()
    positions = xp.arange(0, end, step)
    return reshape(index_put(reshape(input, -1), (positions,), fill_value), input.shape)
