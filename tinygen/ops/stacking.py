"""NumPy's shape helpers under PyTorch's names: hstack, vstack, dstack, column_stack,
atleast_1d/2d/3d, hsplit, vsplit, dsplit, split_with_sizes, fliplr, flipud, rot90, ravel,
t, diag_embed, diagflat, cartesian_prod, combinations, broadcast_tensors and broadcast_shapes.

Each is a view or a ``cat`` of views, so gradients (of every order) come from shape.py.
"""

import itertools

import numpy as np

from tinygen.backend import get_array_module
from tinygen.ops.indexing import IndexAdd, getitem
from tinygen.ops.shape import (
    broadcast_to, cat, flip, normalize_dim, reshape, split, stack, transpose)
from tinygen.tensor import Tensor


def _tensors(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return tensors


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a 0-d one becomes (1,)); one tensor in, one out."""
    return _atleast(tensors, lambda t: reshape(t, (1,)) if t.ndim == 0 else t)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims, new dims in front: (n,) becomes (1, n)."""
    return _atleast(tensors, lambda t: reshape(t, (1,) * (2 - t.ndim) + tuple(t.shape))
                    if t.ndim < 2 else t)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims, as NumPy: (n,) becomes (1, n, 1), (m, n) (m, n, 1)."""
    def lift(t):
        if t.ndim >= 3:
            return t
        return reshape(t, {0: (1, 1, 1), 1: (1, -1, 1), 2: tuple(t.shape) + (1,)}[t.ndim])
    return _atleast(tensors, lift)


def _atleast(tensors, lift):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(lift(t) for t in tensors[0])
    lifted = tuple(lift(t) for t in tensors)
    return lifted[0] if len(lifted) == 1 else lifted


def hstack(tensors):
    """Join along dim 1, or along dim 0 for 1-D tensors."""
    tensors = atleast_1d(_tensors(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along dim 0 after making each tensor at least 2-D."""
    return cat(atleast_2d(_tensors(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors):
    """Join along dim 2 after making each tensor at least 3-D."""
    return cat(atleast_3d(_tensors(tensors, "dstack")), 2)


def column_stack(tensors):
    """The tensors as columns side by side: 0-d and 1-D ones become (n, 1) columns."""
    tensors = _tensors(tensors, "column_stack")
    return cat([reshape(t, (-1, 1)) if t.ndim < 2 else t for t in tensors], 1)


def _split_at(input, indices_or_sections, dim, op):
    """NumPy's array_split rule: n equal parts (which must divide the dim) or split indices."""
    from tinygen.ops.rearrange import tensor_split
    if isinstance(indices_or_sections, int):
        size = input.shape[dim]
        if indices_or_sections <= 0 or size % indices_or_sections:
            raise RuntimeError(f"{op} attempted to split along dimension {dim}, but the size of "
                               f"the dimension {size} is not divisible by the split_size "
                               f"{indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    """Split along dim 1 (dim 0 for a 1-D tensor)."""
    if input.ndim == 0:
        raise RuntimeError("hsplit requires a tensor with at least 1 dimension, but got a 0-d")
    return _split_at(input, indices_or_sections, 0 if input.ndim == 1 else 1, "hsplit")


def vsplit(input, indices_or_sections):
    """Split along dim 0 of a tensor with at least 2 dims."""
    if input.ndim < 2:
        raise RuntimeError(f"vsplit requires a tensor with at least 2 dimension, but got a "
                           f"tensor with {input.ndim} dimensions!")
    return _split_at(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    """Split along dim 2 of a tensor with at least 3 dims."""
    if input.ndim < 3:
        raise RuntimeError(f"dsplit requires a tensor with at least 3 dimension, but got a "
                           f"tensor with {input.ndim} dimensions!")
    return _split_at(input, indices_or_sections, 2, "dsplit")


def split_with_sizes(input, split_sizes, dim=0):
    """Views of consecutive pieces of the given sizes (which must add up to the dim's)."""
    return split(input, list(split_sizes), dim)


def fliplr(input):
    """Reverse dim 1 (left to right)."""
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got shape {tuple(input.shape)}")
    return flip(input, 1)


def flipud(input):
    """Reverse dim 0 (up to down)."""
    if input.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return flip(input, 0)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of ``dims``, from the first dim towards the
    second (as NumPy)."""
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = "
                           f"{len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = (normalize_dim(d, input.ndim, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = "
                           f"{a} and dim1 = {b}")
    k %= 4
    if k == 1:
        return transpose(flip(input, b), a, b)
    if k == 2:
        return flip(input, (a, b))
    if k == 3:
        return flip(transpose(input, a, b), b)
    return input


def ravel(input):
    """The elements as a 1-D tensor (a view when the layout allows)."""
    return reshape(input, -1)


def t(input):
    """A matrix transposed; 0-d and 1-D tensors are returned as they are."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Each last-dim vector of input placed on the ``offset`` diagonal of a matrix in the dims
    (dim1, dim2) of the result, zeros elsewhere."""
    from tinygen.ops.rearrange import movedim
    ndim = input.ndim + 1
    a, b = (normalize_dim(d, ndim, "diag_embed") for d in (dim1, dim2))
    if a == b:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.shape[-1] + abs(offset)
    xp = get_array_module(input.array)
    i = xp.arange(input.shape[-1])
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    square = IndexAdd.apply(input, input.shape[:-1] + (n, n), (Ellipsis, rows, cols))
    return movedim(square, (-2, -1), (a, b))


def diagflat(input, offset=0):
    """The flattened input on the ``offset`` diagonal of a square matrix."""
    return diag_embed(reshape(input, -1), offset)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (itertools.product);
    a single tensor is returned as it is."""
    from tinygen.ops.rearrange import meshgrid
    if len(tensors) == 1:
        return tensors[0]
    return stack([reshape(g, -1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of the 1-D input's elements, as rows, in itertools' order."""
    if input.ndim != 1:
        raise RuntimeError(f"combinations: Expect a 1D vector, but got shape "
                           f"{tuple(input.shape)}")
    xp = get_array_module(input.array)
    if r == 0:
        return Tensor(xp.empty((0,), dtype=input.dtype))
    pick = (itertools.combinations_with_replacement if with_replacement
            else itertools.combinations)
    rows = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return getitem(input, (xp.asarray(rows),))


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to (ints count as 1-D shapes)."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape, "
                           f"got {shapes}") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(broadcast_to(t, shape) for t in tensors)
