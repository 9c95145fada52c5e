"""In-place shape methods (``squeeze_``, ``t_``, ``transpose_``, ``resize_`` ...) and
``as_strided`` (of any tensor: it reads the memory the tensor's array is a view of, as PyTorch
reads the storage).

A shape change in place makes the tensor's array a reshaped view of itself. While recording, the
tensor takes the view op's place in the graph, as the other in-place ops do (autograd/inplace.py),
and is refused where they are (a leaf that requires grad). The version counter is bumped, so a
node that saved the old shape reports the change instead of using the wrong one.
"""

import math

import numpy as np

from tinygen import ops
from tinygen.autograd import forward_ad, inplace
from tinygen.autograd.function import ArrayFunction, memory_owner
from tinygen.autograd.grad_mode import no_grad, state
from tinygen.backend import get_array_module
from tinygen.ops.indexing import IndexAdd, getitem
from tinygen.tensor import Tensor


def _reshape_in_place(tensor, name, op, *args):
    if inplace._recording(tensor, ()):
        inplace._refuse_while_recording(tensor, name)
        result = op(tensor, *args)
        tensor.array = result.array
        inplace._take_place(tensor, result)
    else:
        with no_grad():
            tensor.array = op(tensor, *args).array
    tensor._shared_version()[0] += 1
    return tensor


def _shape_method(name, op):
    def method(self, *args):
        return _reshape_in_place(self, name, op, *args)
    method.__name__ = name
    return method


def resize_(self, *size):
    """Give the tensor shape ``size``, keeping its first elements (row-major) and zero-filling
    any new ones (PyTorch leaves them uninitialised). Outside the graph only, as in PyTorch."""
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    if any(int(n) < 0 for n in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(size)}")
    if tuple(size) == tuple(self.shape):          # as PyTorch: no change, no new version
        return self
    n = math.prod(size)
    if n <= self.array.size and self.array.flags.c_contiguous:
        self.array = self.array.reshape(-1)[:n].reshape(size)
    else:
        new = get_array_module(self.array).zeros(size, dtype=self.dtype)
        kept = min(n, self.array.size)
        # memory order (PyTorch keeps the storage): a transposed tensor keeps its base's order
        new.reshape(-1)[:kept] = self.array.ravel(order="K")[:kept]
        self.array = new
    self._shared_version()[0] += 1
    return self


def resize_as_(self, other):
    return resize_(self, tuple(other.shape))


def _storage(input):
    """input's memory as a flat array of its dtype (PyTorch's storage: the whole allocation its
    array is a view of), and input's offset and strides in it, in elements."""
    array, itemsize = input.array, input.array.itemsize
    owner = memory_owner(array)
    while getattr(owner, "base", None) is not None:     # through as_strided's wrappers
        owner = owner.base
    usable = (hasattr(owner, "strides") and owner.flags.c_contiguous
              and owner.nbytes % itemsize == 0 and not any(s % itemsize for s in array.strides))
    if not usable:                  # memory that is no plain array: the tensor is its storage
        if not input.is_contiguous():
            raise NotImplementedError(f"as_strided: the memory of this {input.dtype} tensor of "
                                      f"shape {tuple(input.shape)} is not a plain array; call "
                                      f".contiguous() first")
        return array.reshape(-1), 0, tuple(s // itemsize for s in array.strides)
    flat = owner.reshape(-1).view(array.dtype)
    return flat, input.storage_offset(), tuple(s // itemsize for s in array.strides)


def _positions(xp, shape, strides, offset):
    """The storage position offset + sum(i_d * stride_d) of every element of a geometry."""
    positions = xp.full(shape, offset, dtype=np.int64)
    for d, (n, s) in enumerate(zip(shape, strides)):
        positions += (xp.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(shape) - d - 1))
    return positions


class AsStrided(ArrayFunction):
    """y[k] = storage[out_positions[k]]: elements of input's memory read with a new geometry
    (a copy). The gradient is PyTorch's as_strided_backward: grad_y added into a zero buffer
    shaped like the storage, read back with input's geometry; an element of memory that input
    shows several times (an expanded input) shares its gradient evenly among them."""
    @staticmethod
    def forward(ctx, x, values, out_ids, in_ids, counts, length):
        ctx.ids, ctx.counts, ctx.length = (out_ids, in_ids), counts, length
        return values

    @staticmethod
    def backward(ctx, grad_y):
        (out_ids, in_ids), counts = ctx.ids, ctx.counts
        storage = IndexAdd.apply(grad_y, (ctx.length,), (out_ids,))   # the zero buffer, filled
        grad_x = getitem(storage, (in_ids,))
        if counts is not None:
            grad_x = grad_x / Tensor(counts)
        return grad_x, None, None, None, None, None


def _strided(input, size, stride, storage_offset):
    """The (writable) array view of input's storage that as_strided describes, after PyTorch's
    checks, with its offset, and input's own offset and strides in that storage."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {size} and {stride}")
    if min(stride, default=0) < 0 or min(size, default=0) < 0:
        raise RuntimeError(f"as_strided: Negative strides or sizes are not supported, got "
                           f"sizes {list(size)} and strides {list(stride)}")
    storage, base, in_strides = _storage(input)
    offset = base if storage_offset is None else int(storage_offset)
    need = 0 if 0 in size else offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if offset < 0 or need > storage.size:
        item = storage.itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{need * item} are out of bounds for storage of size "
                           f"{storage.size * item}")
    byte_strides = tuple(s * storage.itemsize for s in stride)
    view = get_array_module(storage).lib.stride_tricks.as_strided(storage[offset:], size,
                                                                  byte_strides)
    return view, offset, base, in_strides


def storage_view(input, size, stride, storage_offset=None):
    """The writable array that ``input.as_strided(size, stride, storage_offset)`` reads: what
    ``as_strided_`` makes the tensor's array."""
    return _strided(input, size, stride, storage_offset)[0]


def as_strided(input, size, stride, storage_offset=None):
    """The elements of input's memory (its storage) at ``storage_offset + sum(i_d * stride_d)``
    in the shape ``size``; offsets count from the start of that memory and default to input's
    own, as in PyTorch. A read-only view outside the graph, a copy (differentiable) inside it."""
    view, offset, base, in_strides = _strided(input, size, stride, storage_offset)
    size, stride = view.shape, tuple(int(s) for s in stride)
    xp = get_array_module(view)
    if not (input.requires_grad and state.grad_enabled) and not forward_ad.is_dual(input):
        if isinstance(view, np.ndarray):
            view.flags.writeable = False        # one element of memory may appear twice
        return Tensor(view)
    out_positions = _positions(xp, size, stride, offset).reshape(-1)
    in_positions = _positions(xp, input.shape, in_strides, base).reshape(-1)
    # the memory both geometries touch, numbered densely: the storage-shaped buffer of backward
    touched, ids = xp.unique(xp.concatenate([out_positions, in_positions]), return_inverse=True)
    ids = ids.reshape(-1)
    out_ids = ids[:out_positions.size].reshape(size)
    in_ids = ids[out_positions.size:].reshape(input.shape)
    counts = xp.bincount(in_ids.reshape(-1), minlength=1)[in_ids]
    counts = counts.astype(input.dtype) if (counts > 1).any() else None
    return AsStrided.apply(input, view.copy(), out_ids, in_ids, counts, int(touched.size))


for _name, _op in {"squeeze_": ops.squeeze, "unsqueeze_": ops.unsqueeze, "t_": ops.t,
                   "transpose_": ops.transpose, "swapaxes_": ops.swapaxes,
                   "swapdims_": ops.swapdims}.items():
    setattr(Tensor, _name, _shape_method(_name, _op))
Tensor.resize_, Tensor.resize_as_, Tensor.as_strided = resize_, resize_as_, as_strided
