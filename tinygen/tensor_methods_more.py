"""A few more of PyTorch's Tensor methods: ``nonzero_static`` (also ``tg.nonzero_static``),
``new_empty_strided``, ``as_subclass`` and ``dim_order``. ``install(Tensor)`` attaches them
(tensor_methods.py calls it).
"""

import itertools

from tinygen import dtypes
from tinygen.backend import get_array_module


def nonzero_static(input, *, size, fill_value=-1):
    """``nonzero(input)`` padded with rows of ``fill_value``, or cut, to exactly ``size`` rows:
    a (size, input.ndim) int64 tensor whose shape does not depend on the data."""
    from tinygen.tensor import Tensor
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    xp = get_array_module(input.array)
    values = input.array.reshape(1) if input.ndim == 0 else input.array
    found = xp.stack(xp.nonzero(values), axis=1).astype(dtypes.int64, copy=False)[:size]
    ndim = input.ndim
    out = xp.full((size, ndim), fill_value, dtype=dtypes.int64)
    if ndim:
        out[:found.shape[0]] = found
    return Tensor(out)


def new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                      requires_grad=False, pin_memory=False):
    """An uninitialised tensor of ``size`` laid out with ``stride`` (in elements), in this
    tensor's dtype and on its device unless given (``tg.empty_strided``)."""
    from tinygen.toplevel_misc import empty_strided
    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)


def as_subclass(self, cls):
    """This tensor's data, memory shared, as an instance of ``cls`` (a subclass of Tensor). As in
    PyTorch the result is an alias in the graph (a view), so gradients reach ``self``; ``cls``'s
    ``__init__`` does not run."""
    from tinygen.tensor import Tensor
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from "
                        "Tensor is not possible. Make sure your class inherits from Tensor.")
    alias = self.view(tuple(self.shape))
    out = cls.__new__(cls)
    for klass in type(alias).__mro__:                  # Tensor's slots: array, graph links
        for name in getattr(klass, "__slots__", ()):
            if name != "__weakref__" and hasattr(alias, name):
                setattr(out, name, getattr(alias, name))
    return out


def dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory: (0, 1, ..., n-1) for a C-contiguous
    tensor, reversed for its transpose. ``ambiguity_check=True`` raises when more than one order
    fits (a dim of size 1, or two neighbouring dims with equal strides). tinygen has no memory
    formats, so a list ``ambiguity_check`` may only be empty."""
    if not isinstance(ambiguity_check, bool) and (
            not isinstance(ambiguity_check, list) or ambiguity_check):
        raise TypeError("The ambiguity_check argument must be a bool or a list of memory "
                        "formats.")
    shape, strides = tuple(self.shape), self.stride()
    check = ambiguity_check if isinstance(ambiguity_check, bool) else True
    if check and (any(a == b for a, b in itertools.pairwise(strides)) or 1 in shape):
        raise RuntimeError("The tensor does not have unique dim order, or cannot map to exact "
                           "one of the given memory formats.")
    perm, ambiguous = _logical_to_physical(shape, strides, bool(ambiguity_check))  # as torch
    if ambiguous:
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(perm)


def _dense_in_order(shape, strides, order):
    """Whether the dims, innermost first in ``order``, are packed without gaps (size-1 dims
    skipped), as PyTorch's contiguity checks."""
    expected = 1
    for d in order:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def _logical_to_physical(shape, strides, ambiguity_check):
    """PyTorch's compute_elementwise_output_logical_to_physical_perm for one tensor."""
    ndim = len(shape)
    if ndim <= 1:
        return list(range(ndim)), False
    contiguous = 0 in shape or _dense_in_order(shape, strides, range(ndim - 1, -1, -1))
    channels_last = ndim == 4 and _dense_in_order(shape, strides, (1, 3, 2, 0))
    if contiguous and not channels_last:
        return list(range(ndim)), False
    if channels_last and not contiguous:
        return [0, *range(2, ndim), 1], False

    def ge(a, b):
        return b == 0 or (a != 0 and (a >= b or a % b == 0))

    def should_swap(a, b):
        stride_a, stride_b = strides[a], strides[b]
        if stride_a == 0 or stride_b == 0:
            return 0
        if stride_a == stride_b:
            return 0 if ge(shape[b], shape[a]) else 1
        if ge(stride_b, stride_a):
            return -1
        return 1 if ge(stride_a, stride_b) else 0

    perm = list(reversed(range(ndim)))             # sorted back to front, then reversed
    for i in range(1, ndim):                       # insertion sort; ties keep their place
        dim1 = i
        for dim0 in reversed(range(i)):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    ambiguous = ambiguity_check and any(
        should_swap(perm[i], perm[i + 1]) != -1 for i in range(ndim - 1))
    return list(reversed(perm)), ambiguous


def install(cls):
    """Attach the methods to ``cls`` (Tensor)."""
    cls.nonzero_static = nonzero_static
    cls.new_empty_strided = new_empty_strided
    cls.as_subclass = as_subclass
    cls.dim_order = dim_order
