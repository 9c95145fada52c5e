"""Rearranging and picking, built from the differentiable shape and indexing ops (so every
gradient is theirs): movedim, swapaxes, narrow, unflatten, tensor_split, diagonal, diag, trace,
diff, meshgrid, block_diag, take_along_dim and masked_select. scatter, scatter_add and
scatter_reduce live in scatter_ops.py (imported here, their first home).
"""

import math

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.compare import _result_dtype
from tinygen.ops.indexing import IndexAdd, gather, getitem
from tinygen.ops.out_param import accepts_out
from tinygen.ops.scatter_ops import _combine_at, scatter, scatter_add, scatter_reduce
from tinygen.ops.shape import (
    broadcast_to, cat, expand, normalize_dim, permute, reshape, strided_view, transpose)
from tinygen.tensor import Tensor


def movedim(input, source, destination):
    """input with the dims ``source`` (an int or a sequence) moved to ``destination``."""
    source, destination = ([d] if isinstance(d, int) else list(d) for d in (source, destination))
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({source} dims)"
                           f" should contain the same number of dims as destination "
                           f"({destination} dims)")
    source = [normalize_dim(d, input.ndim, "movedim") for d in source]
    destination = [normalize_dim(d, input.ndim, "movedim") for d in destination]
    for name, dims in (("source", source), ("destination", destination)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({dims}) for a tensor of "
                               f"{input.ndim} dims")
    rest = iter(d for d in range(input.ndim) if d not in source)
    placed = dict(zip(destination, source))
    return permute(input, *(placed[d] if d in placed else next(rest)
                            for d in range(input.ndim)))


moveaxis = movedim


def swapaxes(input, axis0, axis1):
    return transpose(input, axis0, axis1)


swapdims = swapaxes


def narrow(input, dim, start, length):
    """The ``length`` entries from ``start`` (negative counts from the end) along ``dim``, a
    view."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    axis = normalize_dim(dim, input.ndim, "narrow")
    if isinstance(start, Tensor) and (start.ndim != 0 or start.dtype.kind not in "iu"):
        raise RuntimeError(f"narrow(): start must be an 0-dim integral Tensor, got shape "
                           f"{tuple(start.shape)} and dtype {start.dtype}")
    start = int(start)
    size = input.shape[axis]
    if not -size <= start <= size:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-size}, "
                         f"{size}], but got {start})")
    if start < 0:
        start += size
    if not 0 <= length <= size - start:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}) of dim {dim}")
    return getitem(input, (slice(None),) * axis + (slice(start, start + length),))


def unflatten(input, dim, sizes):
    """input with ``dim`` split into the dims ``sizes`` (one of them may be -1)."""
    axis = normalize_dim(dim, input.ndim, "unflatten")
    sizes, side = list(sizes), input.shape[axis]
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) == 1 and known and side % known == 0:    # -1 from this dim alone
        sizes[sizes.index(-1)] = side // known
    if not sizes or -1 in sizes or math.prod(sizes) != side:
        raise RuntimeError(f"unflatten: Provided sizes {tuple(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({side}) in the input tensor")
    return reshape(input, input.shape[:axis] + tuple(sizes) + input.shape[axis + 1:])


def tensor_split(input, indices_or_sections, dim=0):
    """Views of input split along ``dim``: into n near-equal parts (the first size % n one
    longer) for an int n, or at the given indices for a sequence."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    axis = normalize_dim(dim, input.ndim, "tensor_split")
    size = input.shape[axis]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.array.tolist()
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {n}")
        lengths = [size // n + (i < size % n) for i in range(n)]
        bounds = np.cumsum([0] + lengths).tolist()
    else:
        bounds = [0] + [min(max(int(i) + (size if i < 0 else 0), 0), size)
                        for i in indices_or_sections] + [size]
    head = (slice(None),) * axis
    return tuple(getitem(input, head + (slice(a, max(a, b)),))
                 for a, b in zip(bounds[:-1], bounds[1:]))


class Diagonal(ArrayFunction):
    """y = the diagonal ``offset`` above the main one of x's (a, b) planes, as the last dim: a
    view of x, as in PyTorch (writing to it changes x). The gradient goes back onto that
    diagonal of zeros (diagonal_scatter, so gradients of every order work)."""
    is_view = is_plain_view = True

    @staticmethod
    def forward(ctx, x, offset, a, b):
        ctx.geometry = (x.shape, offset, a, b)
        corner = [slice(None)] * x.ndim                     # the diagonal's first element
        corner[a], corner[b] = slice(max(0, -offset), None), slice(max(0, offset), None)
        x = x[tuple(corner)]
        others = [d for d in range(x.ndim) if d not in (a, b)]
        shape = tuple(x.shape[d] for d in others) + (min(x.shape[a], x.shape[b]),)
        if 0 in shape:      # still a view of x, so changes to it count as x's (its version)
            return x.transpose(others + [a, b])[..., :0, :0].reshape(shape)
        strides = tuple(x.strides[d] for d in others) + (x.strides[a] + x.strides[b],)
        return strided_view(x, shape, strides)

    @staticmethod
    def backward(ctx, grad_y):
        from tinygen.ops.index_ops import diagonal_scatter
        shape, offset, a, b = ctx.geometry
        zeros = Tensor(get_array_module(grad_y.array).zeros(shape, grad_y.dtype))
        return diagonal_scatter(zeros, grad_y, offset, a, b), None, None, None


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes, ``offset`` above the main one, as the last dim
    (a view of input)."""
    a = normalize_dim(dim1, input.ndim, "diagonal")
    b = normalize_dim(dim2, input.ndim, "diagonal")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset, a, b)


_matrix_diagonal = diagonal          # diag's own argument is called diagonal, as in PyTorch


def diag(input, diagonal=0):
    """A 1-D input placed on the ``diagonal`` of a square matrix, or a matrix's diagonal."""
    if input.ndim == 2:
        return _matrix_diagonal(input, diagonal)
    if input.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    n = input.shape[0] + abs(diagonal)
    xp = get_array_module(input.array)
    i = xp.arange(input.shape[0])
    rows, cols = (i, i + diagonal) if diagonal >= 0 else (i - diagonal, i)
    return IndexAdd.apply(input, (n, n), (rows, cols))


def trace(input):
    """The sum of a matrix's main diagonal."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal(input).sum()


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference out[i] = x[i + 1] - x[i] along ``dim``, after ``prepend``
    and ``append`` are concatenated there; with n = 0 the input itself, as in PyTorch."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"diff expects order to be non-negative but got {n}")
    axis = normalize_dim(dim, input.ndim, "diff")
    if n == 0:
        return input
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, axis) if len(parts) > 1 else input
    head = (slice(None),) * axis
    for _ in range(n):
        later, earlier = getitem(x, head + (slice(1, None),)), getitem(x, head + (slice(None, -1),))
        x = later != earlier if x.dtype.kind == "b" else later - earlier
    return x


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-D (or 0-d) tensors: out[k] varies along dim k ('ij') or, for
    'xy', with the first two dims swapped (Cartesian, as NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be one of 'xy' or 'ij', got {indexing!r}")
    shape = [t.numel() for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for k, t in enumerate(tensors):
        view = [1] * len(tensors)
        view[order[k]] = -1
        grids.append(expand(reshape(t, view), shape))
    return tuple(grids)


def block_diag(*tensors):
    """The tensors (0-d, 1-D as a row, or 2-D) placed corner to corner on the diagonal of one
    matrix, zeros elsewhere; the result has their common dtype."""
    mats = [reshape(t, (1, -1)) if t.ndim < 2 else t for t in tensors]
    if any(m.ndim != 2 for m in mats):
        raise RuntimeError(f"block_diag: Input tensors must have 2 or fewer dimensions, got "
                           f"shapes {[tuple(t.shape) for t in tensors]}")
    dtype = _result_dtype(*mats)
    mats = [m.to(dtype) for m in mats]
    width = sum(m.shape[1] for m in mats)
    xp = get_array_module(mats[0].array) if mats else np
    rows, left = [], 0
    for m in mats:
        r, c = m.shape
        zeros = (Tensor(xp.zeros((r, left), dtype)), Tensor(xp.zeros((r, width - left - c), dtype)))
        rows.append(cat([zeros[0], m, zeros[1]], 1))
        left += c
    return cat(rows, 0) if rows else Tensor(xp.zeros((0, 0), dtype))


def take_along_dim(input, indices, dim=None):
    """input's entries at ``indices`` along ``dim`` (the two broadcast against each other in the
    other dims); with dim None, of the flattened input. Negative indices count from the end,
    as in PyTorch (gather takes none)."""
    if dim is None:
        return take_along_dim(reshape(input, -1), reshape(indices, -1), 0)
    axis = normalize_dim(dim, input.ndim, "take_along_dim")
    if input.ndim:
        size, ids = input.shape[axis], indices.array
        indices = Tensor(get_array_module(ids).where(ids < 0, ids + size, ids))
    if indices.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of "
                           f"dimensions, but got {input.ndim} and {indices.ndim}")
    shape = [b if a == 1 else a for a, b in zip(input.shape, indices.shape)]   # 1 and 0 give 0
    input_shape, index_shape = list(shape), list(shape)
    input_shape[axis], index_shape[axis] = input.shape[axis], indices.shape[axis]
    return gather(broadcast_to(input, input_shape), axis, broadcast_to(indices, index_shape))


@accepts_out()
def masked_select(input, mask):
    """The 1-D tensor of input's entries where the bool ``mask`` is True (both broadcast)."""
    if mask.dtype.kind != "b":
        raise RuntimeError(f"masked_select: expected a bool mask, got {mask.dtype}")
    xp = get_array_module(input.array)
    shape = xp.broadcast_shapes(input.shape, mask.shape)
    return getitem(broadcast_to(input, shape), xp.broadcast_to(mask.array, shape))


# re-exported: they lived here before scatter_ops.py (sparse/ops.py imports _combine_at)
SCATTER_OPS = (scatter, scatter_add, scatter_reduce, _combine_at)
