"""Shape ops: reshape, permute, expand and their inverses, squeeze/unsqueeze, cat/stack/split,
unbind.

Reshape, permute and expand return views of the input's array (NumPy strides), so they cost no
copy. ``expand`` and ``sum_to`` are each other's backward: broadcasting copies a value to many
places, so its gradient sums those places back (DeZero's BroadcastTo/SumTo pair).
"""

import numpy as np

from tinygen import dtypes
from tinygen.autograd.function import ArrayFunction, memory_owner
from tinygen.backend import get_array_module
from tinygen.errors import ArgumentError
from tinygen.ops.out_param import accepts_out


def normalize_dim(dim, ndim, op="op"):
    """``dim`` as a non-negative axis, or an IndexError naming the valid range."""
    low, high = -max(ndim, 1), max(ndim, 1) - 1
    if not low <= dim <= high:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                         f"[{low}, {high}], but got {dim})")
    return dim % max(ndim, 1)


def normalize_dims(dim, ndim, op="op"):
    """``dim`` (None, int or tuple) as a sorted tuple of non-negative axes; None means all."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    axes = tuple(sorted({normalize_dim(d, ndim, op) for d in dims}))
    if len(axes) != len(dims):
        raise ArgumentError(f"{op}: dim {dim} names an axis more than once (a dim appears "
                            f"multiple times in the list of dims)")
    return axes if ndim else ()


def strided_view(x, shape, strides):
    """A view of x's memory with ``shape`` and byte ``strides``, from x's first element. On the
    host it is built on the memory's owner (NumPy's as_strided would hide it behind a wrapper),
    so the engine sees a view of x: in-place changes through it reach x, and x's changes it."""
    if not isinstance(x, np.ndarray):
        return get_array_module(x).lib.stride_tricks.as_strided(x, shape, strides)
    owner = memory_owner(x)
    offset = x.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return np.ndarray(shape, x.dtype, buffer=owner, offset=offset, strides=strides)


class Reshape(ArrayFunction):
    """y = x with a new shape (a view when the memory layout allows, else a copy)."""
    is_view = is_plain_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_y):
        return reshape(grad_y, ctx.shape), None


class View(Reshape):
    """y = x with a new shape, sharing x's memory: an error where x's layout allows no such view
    (a transposed matrix flattened), as in PyTorch."""

    @staticmethod
    def forward(ctx, x, shape):
        y = Reshape.forward(ctx, x, shape)
        if x.size > 1 and memory_owner(y) is not memory_owner(x):   # NumPy had to copy
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.")
        return y


class Permute(ArrayFunction):
    """y = x with its axes reordered; the gradient is permuted back by the inverse order."""
    is_view = is_plain_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad_y):
        inverse = tuple(sorted(range(len(ctx.dims)), key=ctx.dims.__getitem__))
        return permute(grad_y, inverse), None


class Expand(ArrayFunction):
    """y = x broadcast to ``shape`` (a read-only view where it repeats elements, a writeable one
    where it only adds leading 1s, as PyTorch's);  the gradient is summed back."""
    is_view = is_plain_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        lead = len(shape) - x.ndim
        if shape[lead:] == x.shape and all(n == 1 for n in shape[:lead]):
            return x[(None,) * lead + (Ellipsis,)]
        return get_array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad_y):
        return sum_to(grad_y, ctx.shape), None


class SumTo(ArrayFunction):
    """y = x summed over the axes that broadcasting added or stretched, giving ``shape``."""
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        lead = x.ndim - len(shape)                       # axes prepended by broadcasting
        if lead < 0 or any(n not in (1, x.shape[lead + i]) for i, n in enumerate(shape)):
            raise ValueError(f"shape {tuple(x.shape)} can't be summed to {tuple(shape)}")
        stretched = tuple(lead + i for i, n in enumerate(shape)
                          if n == 1 and x.shape[lead + i] != 1)
        return x.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)

    @staticmethod
    def backward(ctx, grad_y):
        return expand(grad_y, ctx.shape), None


class Cat(ArrayFunction):
    """y = the inputs joined along ``dim``;  each input's gradient is its slice of grad_y."""
    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return get_array_module(arrays[0]).concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad_y):
        return (None,) + split(grad_y, ctx.sizes, ctx.dim)


class Split(ArrayFunction):
    """The consecutive pieces of x along ``dim`` (views);  x's gradient is the pieces' gradients
    joined back together, one copy however many pieces there are (the engine fills in zeros
    for a piece that got no gradient)."""
    is_view = is_plain_view = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        bounds = [sum(sizes[:i + 1]) for i in range(len(sizes) - 1)]
        return tuple(get_array_module(x).split(x, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *grad_pieces):
        return cat(grad_pieces, ctx.dim), None, None


class Unbind(ArrayFunction):
    """The slices of x along ``dim``, without that dim (views); x's gradient is the slices'
    gradients stacked back together, one copy (zeros for a slice that got no gradient)."""
    is_view = is_plain_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        # the Ellipsis keeps a 1-d x's slices 0-d views, not NumPy scalars (copies)
        return tuple(x[(slice(None),) * dim + (i, Ellipsis)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grad_slices):
        return stack(grad_slices, ctx.dim), None


def sum_to(x, shape):
    shape = tuple(shape)
    return x if tuple(x.shape) == shape else SumTo.apply(x, shape)


def _shape_arg(shape):
    """Accept both ``f(2, 3)`` and ``f((2, 3))``, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def reshape(x, *shape):
    """x with a new shape: a view of x's memory where its layout allows, else a copy."""
    shape = _shape_arg(shape)
    # always a new tensor, as in PyTorch: a view of x even for x's own shape (its ``_base``)
    return Reshape.apply(x, _checked_shape(x, shape, "reshape"))


def view(x, *shape):
    """x with a new shape, always sharing x's memory (an error where that is impossible)."""
    shape = _shape_arg(shape)
    return View.apply(x, _checked_shape(x, shape, "view"))


def _checked_shape(x, shape, op):
    """``shape``, or an error if it has more than one -1 or holds a different number of
    elements than x."""
    if shape.count(-1) > 1 or any(n < -1 for n in shape):
        raise RuntimeError(f"{op}: invalid shape {shape}: only one dimension can be inferred "
                           f"(at most one -1, no other negatives)")
    known = 1
    for n in shape:
        known *= n if n != -1 else 1
    size = x.numel()
    if (-1 not in shape and known != size) or (-1 in shape and (known == 0 or size % known)):
        raise RuntimeError(f"{op}: shape {shape} is invalid for input of size {size} "
                           f"(shape {tuple(x.shape)})")
    return shape


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, 1)
    start = normalize_dim(start_dim, x.ndim, "flatten")
    end = normalize_dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    if start == end:                # PyTorch returns the tensor itself, not a view
        return x
    shape = x.shape
    return reshape(x, shape[:start] + (_product(shape[start:end + 1]),) + shape[end + 1:])


def _product(values):
    result = 1
    for v in values:
        result *= v
    return result


def permute(x, *dims):
    dims = _shape_arg(dims)
    if len(dims) != x.ndim or sorted(normalize_dim(d, x.ndim, "permute") for d in dims) != \
            list(range(x.ndim)):
        raise RuntimeError(f"permute: dims {dims} are not a permutation of the "
                           f"{x.ndim} dims of a tensor of shape {tuple(x.shape)}")
    dims = tuple(d % max(x.ndim, 1) for d in dims)
    return Permute.apply(x, dims)


def transpose(x, dim0, dim1):
    if x.ndim == 0:
        return Permute.apply(x, ())
    dims = list(range(x.ndim))
    a, b = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, dims)


def expand(x, *shape):
    """Broadcast x to ``shape``; -1 keeps a dimension as it is (PyTorch's expand)."""
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the target shape {shape} has fewer dims than the input "
                           f"shape {tuple(x.shape)}")
    shape = tuple(x.shape[i - lead] if n == -1 and i >= lead else n
                  for i, n in enumerate(shape))
    if any(n < 0 for n in shape):
        raise RuntimeError(f"expand: invalid target shape {shape} for input shape "
                           f"{tuple(x.shape)} (-1 may only keep an existing dim)")
    for i, n in enumerate(x.shape):
        if n != 1 and n != shape[lead + i]:
            raise RuntimeError(f"expand: the input shape {tuple(x.shape)} can't be broadcast "
                               f"to {shape} (dim {i} has size {n})")
    return Expand.apply(x, shape)


def expand_as(x, other):
    return expand(x, other.shape)


def broadcast_to(x, shape):
    return expand(x, shape)


def squeeze(x, dim=None):
    """Remove size-1 dims: all of them, or those named by ``dim`` (an int or a tuple)."""
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    axes = normalize_dims(dim, x.ndim, "squeeze")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1)))


def unsqueeze(x, dim):
    axis = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


@accepts_out()
def cat(tensors, dim=0):
    """Join tensors along an existing dim; all other dims must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                               f"concatenated")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.result_type(dtype, 1, t.dtype, 1)
    # as PyTorch, 1-D empty tensors are skipped (legacy); they still take part in the dtype
    tensors = [t for t in tensors if tuple(t.shape) != (0,)] or tensors[:1]
    first = tensors[0]
    axis = normalize_dim(dim, first.ndim, "cat")
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim or any(a != b for k, (a, b) in enumerate(
                zip(t.shape, first.shape)) if k != axis):
            raise RuntimeError(f"cat: sizes of tensors must match except in dim {dim}: tensor "
                               f"0 has shape {tuple(first.shape)}, tensor {i} has shape "
                               f"{tuple(t.shape)}")
    tensors = [t if t.dtype == dtype else t.to(dtype) for t in tensors]
    return Cat.apply(axis, *tensors)


concatenate = cat


def stack(tensors, dim=0):
    """Join same-shape tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise ArgumentError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{tuple(tensors[0].shape)} at entry 0 and {tuple(t.shape)} "
                               f"at entry {i}")
    axis = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, axis) for t in tensors], axis)


def split(x, split_size_or_sections, dim=0):
    """Views of consecutive pieces along ``dim``: of ``split_size`` each, or of the given sizes."""
    if x.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    axis = normalize_dim(dim, x.ndim, "split")
    length = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ArgumentError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, length - start) for start in range(0, length, size)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ArgumentError(f"split: sizes {sizes} add up to {sum(sizes)}, but dim {dim} "
                                f"has size {length}")
        if not sizes:                        # PyTorch: no pieces at all
            return ()
    return Split.apply(x, sizes, axis)


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller), as PyTorch."""
    if chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be positive, got {chunks}")
    if x.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    length = x.shape[normalize_dim(dim, x.ndim, "chunk")]
    if length == 0:                          # PyTorch gives `chunks` empty pieces
        return split(x, [0] * chunks, dim)
    return split(x, -(-length // chunks), dim)


def flip(x, dims):
    axes = normalize_dims(dims, x.ndim, "flip")
    index = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim))
    return x[index]


def unbind(x, dim=0):
    """The slices along ``dim``, each without that dim (views), from one op (``Unbind``)."""
    axis = normalize_dim(dim, x.ndim, "unbind")
    if x.shape[axis] == 0:
        return ()
    return Unbind.apply(x, axis)
