"""In-place shape methods (``squeeze_``, ``t_``, ``transpose_``, ``resize_`` ...) and
``as_strided``.

A shape change in place makes the tensor's array a reshaped view of itself. While recording, the
tensor takes the view op's place in the graph, as the other in-place ops do (autograd/inplace.py),
and is refused where they are (a leaf that requires grad). The version counter is bumped, so a
node that saved the old shape reports the change instead of using the wrong one.
"""

import math

import numpy as np

from tinygen import ops
from tinygen.autograd import inplace
from tinygen.autograd.grad_mode import no_grad
from tinygen.backend import get_array_module
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


def as_strided(input, size, stride, storage_offset=None):
    """The elements of ``input`` (contiguous) at ``storage_offset + sum(i_d * stride_d)`` in the
    shape ``size``. Offsets count from the tensor's memory as PyTorch's; a read-only view outside
    the graph, a copy (differentiable) inside it."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {size} and {stride}")
    if not input.is_contiguous():
        raise NotImplementedError("as_strided on a non-contiguous tensor: call .contiguous()")
    start = (input.storage_offset() if storage_offset is None else storage_offset) - \
        input.storage_offset()
    last = start + sum((n - 1) * s for n, s in zip(size, stride)) if 0 not in size else start
    if start < 0 or min(stride, default=0) < 0 or (0 not in size and last >= input.numel()):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)} and offset "
                           f"{storage_offset} are out of bounds for a tensor of "
                           f"{input.numel()} elements")
    xp = get_array_module(input.array)
    if input.requires_grad:
        positions = xp.full(size, start, dtype=np.int64)
        for d, (n, s) in enumerate(zip(size, stride)):
            positions += (xp.arange(n) * s).reshape((n,) + (1,) * (len(size) - d - 1))
        return ops.indexing.AsStrided.apply(input, positions)
    flat = input.array.reshape(-1)[start:]
    byte_strides = tuple(s * input.array.itemsize for s in stride)
    return Tensor(xp.lib.stride_tricks.as_strided(flat, size, byte_strides, writeable=False)
                  if hasattr(flat, "flags") and isinstance(flat, np.ndarray) else
                  xp.lib.stride_tricks.as_strided(flat, size, byte_strides))


for _name, _op in {"squeeze_": ops.squeeze, "unsqueeze_": ops.unsqueeze, "t_": ops.t,
                   "transpose_": ops.transpose, "swapaxes_": ops.swapaxes,
                   "swapdims_": ops.swapdims}.items():
    setattr(Tensor, _name, _shape_method(_name, _op))
Tensor.resize_, Tensor.resize_as_, Tensor.as_strided = resize_, resize_as_, as_strided
