"""Copies that rearrange or repeat elements: tril/triu, repeat, tile, repeat_interleave, roll.

All but tril/triu are built from views (reshape, expand, slices) and ``cat``, so their gradients,
and the gradients of those, come from the ops they are made of: repeating sums the gradient of
the copies back (expand's backward), rolling rolls it back (cat's and slicing's).
"""

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.convert import clone
from tinygen.ops.indexing import index_select
from tinygen.ops.shape import _shape_arg, cat, expand, normalize_dim, reshape, unsqueeze
from tinygen.tensor import Tensor


class Triangle(ArrayFunction):
    """y = x with the elements above (``upper=False``: tril) or below (triu) the ``diagonal``-th
    diagonal of the last two dims set to 0;  the gradient is masked the same way."""
    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        xp = get_array_module(x)
        return xp.triu(x, diagonal) if upper else xp.tril(x, diagonal)

    @staticmethod
    def backward(ctx, grad_y):
        return Triangle.apply(grad_y, ctx.diagonal, ctx.upper), None, None


def tril(input, diagonal=0):
    """The lower triangle of the last two dims (on and below the ``diagonal``-th diagonal)."""
    _need_matrix(input, "tril")
    return Triangle.apply(input, diagonal, False)


def triu(input, diagonal=0):
    """The upper triangle of the last two dims (on and above the ``diagonal``-th diagonal)."""
    _need_matrix(input, "triu")
    return Triangle.apply(input, diagonal, True)


def _need_matrix(x, op):
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                           f"{tuple(x.shape)}")


def repeat(input, *sizes):
    """``x.repeat(*sizes)``: tile x ``sizes[i]`` times along dim i (like ``numpy.tile``); extra
    leading sizes add new dims. Each dim of size n becomes (r, n) by expand, then r * n. The
    result is always a new tensor, as PyTorch's: never a view of x, never a read-only broadcast."""
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"repeat: the number of sizes ({len(sizes)}) can not be smaller "
                           f"than the number of dims of the tensor ({input.ndim}, shape "
                           f"{tuple(input.shape)})")
    if any(r < 0 for r in sizes):
        raise RuntimeError(f"repeat: sizes must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
    paired = [n for s in shape for n in (1, s)]
    stretched = [n for r, s in zip(sizes, shape) for n in (r, s)]
    y = clone(expand(reshape(input, paired), stretched))
    return reshape(y, tuple(r * s for r, s in zip(sizes, shape)))


def tile(input, dims):
    """``torch.tile``: like ``repeat``, but fewer ``dims`` than x has are padded with 1s."""
    dims = _shape_arg((dims,))
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times along ``dim`` (the flattened input when None):
    [a, b] -> [a, a, b, b]. ``repeats`` is an int, or a 1-D tensor of one count per element.
    ``output_size``, the length of the result along dim, is checked when given."""
    if dim is None:
        input, dim = reshape(input, -1), 0
    axis = normalize_dim(dim, input.ndim, "repeat_interleave")
    if isinstance(repeats, Tensor) and repeats.numel() == 1:
        repeats = int(repeats.item())
    if isinstance(repeats, int):
        if repeats < 0:
            raise RuntimeError(f"repeat_interleave: repeats must be non-negative, got {repeats}")
        shape = input.shape
        _check_output_size(output_size, shape[axis] * repeats)
        y = expand(unsqueeze(input, axis + 1),
                   shape[:axis + 1] + (repeats,) + shape[axis + 1:])
        return reshape(y, shape[:axis] + (shape[axis] * repeats,) + shape[axis + 1:])
    counts = np.asarray(repeats.tolist(), dtype=np.int64)   # host: CuPy's repeat needs a list
    if counts.ndim != 1 or counts.shape[0] != input.shape[axis] or (counts < 0).any():
        raise RuntimeError(f"repeat_interleave: repeats must be an int or a 1-D tensor of "
                           f"non-negative counts with {input.shape[axis]} entries (the size of "
                           f"dim {dim}), got shape {tuple(counts.shape)}")
    _check_output_size(output_size, int(counts.sum()))
    index = np.repeat(np.arange(input.shape[axis]), counts)
    return index_select(input, axis, Tensor(index))


def _check_output_size(output_size, length):
    if output_size is not None and output_size != length:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {length} but got "
                           f"{output_size}")


def roll(input, shifts, dims=None):
    """Shift elements along ``dims`` by ``shifts``, wrapping around; with ``dims=None`` the
    flattened tensor is rolled and reshaped back (as PyTorch)."""
    if dims is None:
        if not isinstance(shifts, int) and len(shifts) != 1:
            raise RuntimeError(f"roll: with dims=None, shifts must be one number, got {shifts}")
        shift = shifts if isinstance(shifts, int) else shifts[0]
        return reshape(roll(reshape(input, -1), shift, 0), input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    y = input
    for shift, dim in zip(shifts, dims):
        axis = normalize_dim(dim, input.ndim, "roll")
        n = input.shape[axis]
        shift = shift % n if n else 0
        if shift:
            lead = (slice(None),) * axis
            y = cat([y[lead + (slice(n - shift, None),)], y[lead + (slice(0, n - shift),)]],
                    axis)
    return y
