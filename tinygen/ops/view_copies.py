"""The ``*_copy`` twins of the view ops (``tg.t_copy``, ``tg.expand_copy``, ...), as PyTorch has
them for code that must not alias memory: each returns what the view would, as a fresh tensor
with its own memory (a clone, so the gradient is the view's). Also ``as_strided_scatter``,
the functional form of writing through ``as_strided``.
"""

import functools
import math

from tinygen.backend import get_array_module
from tinygen.errors import IndexArgumentError
from tinygen.ops.complex_ops import view_as_complex, view_as_real
from tinygen.ops.convert import clone, write_out
from tinygen.ops.indexing import index_put
from tinygen.ops.shape import reshape
from tinygen.tensor import Tensor


def _expand(input, *size, implicit=False):              # implicit: PyTorch's tracing flag
    return input.expand(*size)


def _narrow(input, dim, start, length):
    if not -max(input.ndim, 1) <= dim < max(input.ndim, 1):     # a RuntimeError in PyTorch
        raise IndexArgumentError(f"narrow_copy: dim {dim} out of range for a tensor of "
                                 f"{input.ndim} dims")
    return input.narrow(dim, start, length)


# torch name -> the view whose result it copies: a Tensor method's name, or a function
_VIEWS = {"alias_copy": lambda input: input, "as_strided_copy": "as_strided",
          "detach_copy": "detach", "diagonal_copy": "diagonal",
          "expand_copy": _expand, "narrow_copy": _narrow, "permute_copy": "permute",
          "select_copy": "select", "squeeze_copy": "squeeze", "t_copy": "t",
          "transpose_copy": "transpose", "unbind_copy": "unbind",
          "unfold_copy": "unfold", "unsqueeze_copy": "unsqueeze",
          "view_copy": "view", "split_with_sizes_copy": "split",
          "view_as_real_copy": view_as_real, "view_as_complex_copy": view_as_complex}


def _copy_of(name, view):
    def copy_op(input, *args, out=None, **kwargs):
        make = getattr(input, view) if isinstance(view, str) else functools.partial(view, input)
        result = make(*args, **kwargs)
        if isinstance(result, (tuple, list)):
            return type(result)(clone(r) for r in result)
        return write_out(clone(result), out, name)
    copy_op.__name__ = copy_op.__qualname__ = name
    copy_op.__doc__ = f"What torch.{name} gives: the view's result as a fresh tensor."
    return copy_op


globals().update({name: _copy_of(name, view) for name, view in _VIEWS.items()})


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of input with ``src`` written where ``as_strided(size, stride, storage_offset)``
    of that copy reads: offsets and strides count in input's row-major order, as in PyTorch
    (whose copy is contiguous). input's gradient is zero where src landed."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {size} and {stride}")
    if tuple(src.shape) != size:
        raise RuntimeError(f"as_strided_scatter: expected src to have a size equal to the "
                           f"slice of self. src size = {tuple(src.shape)}, slice size = {size}")
    need = 0 if 0 in size else offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if offset < 0 or min(stride, default=0) < 0 or need > math.prod(input.shape):
        raise RuntimeError(f"as_strided_scatter: sizes {list(size)}, strides {list(stride)} and "
                           f"storage offset {offset} are out of bounds for an input of "
                           f"{math.prod(input.shape)} elements (shape {tuple(input.shape)})")
    xp = get_array_module(input.array)
    positions = xp.full(size, offset, dtype="int64")
    for axis, (n, s) in enumerate(zip(size, stride)):
        positions = positions + (xp.arange(n) * s).reshape((n,) + (1,) * (len(size) - axis - 1))
    flat = index_put(reshape(input, -1), (positions,), src.to(input.dtype))
    return reshape(flat, input.shape)


__all__ = [*_VIEWS, "as_strided_scatter"]
Tensor.as_strided_scatter = as_strided_scatter
