"""``Tensor.untyped_storage()``, ``Tensor.storage()`` and ``Tensor.set_``, as PyTorch's: the
whole memory a tensor lies in, seen as bytes (``UntypedStorage``) or as elements of the
tensor's dtype (``TypedStorage``).

tinygen has no storage objects of its own: a tensor's memory is the buffer of the NumPy/CuPy
array that owns it (a view's ``base``), so a storage is a flat view of that owner and shares
memory with the tensor and all its views; writing to it changes them (without a version bump,
as in PyTorch). Slicing, resizing, sharing across processes and the deprecation warning of
``storage()`` are left out.
"""

from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.backend import device_of, get_array_module


def _owner(array):
    """The array whose buffer ``array`` lies in (its last ndarray ``base``)."""
    xp = get_array_module(array)
    while isinstance(array.base, xp.ndarray):
        array = array.base
    return array


def _flat_bytes(array):
    """The owner's whole buffer as a 1-D uint8 view."""
    owner = _owner(array)
    if not (owner.flags.c_contiguous or owner.flags.f_contiguous):
        raise RuntimeError(f"storage: the memory of this tensor (owner shape {owner.shape}, "
                           f"strides {owner.strides}) is not one contiguous block")
    xp = get_array_module(owner)
    return owner.ravel(order="K").view(xp.uint8)


class UntypedStorage:
    """A tensor's memory as bytes: ``size()`` and ``len`` count bytes, items are ints."""

    def __init__(self, flat_bytes):
        self._bytes = flat_bytes

    def _flat(self):
        return self._bytes

    def data_ptr(self):
        """The address of the first byte (numpy or cupy)."""
        flat = self._bytes
        if hasattr(flat, "__array_interface__"):
            return flat.__array_interface__["data"][0]
        return flat.data.ptr

    def nbytes(self):
        return int(self._bytes.size)

    def element_size(self):
        return self._flat().itemsize

    def size(self):
        return int(self._flat().size)

    def __len__(self):
        return self.size()

    def tolist(self):
        return self._flat().tolist()

    def __getitem__(self, index):
        return self._flat()[_index(index, len(self))].item()

    def __setitem__(self, index, value):
        self._flat()[_index(index, len(self))] = value

    @property
    def device(self):
        return device_of(self._bytes)

    def untyped(self):
        return UntypedStorage(self._bytes)

    def __repr__(self):
        return (f" {' '.join(str(v) for v in self.tolist()[:16])}"
                f"{' ...' if len(self) > 16 else ''}\n[{type(self).__name__} of size "
                f"{len(self)} on {self.device}]")


class TypedStorage(UntypedStorage):
    """A tensor's memory as elements of ``dtype``: ``size()`` and ``len`` count elements."""

    def __init__(self, flat_bytes, dtype):
        super().__init__(flat_bytes)
        self.dtype = dtype

    def _flat(self):
        whole = self._bytes.size // self.dtype.itemsize * self.dtype.itemsize
        return self._bytes[:whole].view(self.dtype)


def _index(index, size):
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"storage indices must be integers (slices are not supported), got "
                        f"{type(index).__name__}")
    if not -size <= index < size:
        raise IndexError(f"index {index} out of range for storage of size {size}")
    return index


def untyped_storage(self):
    """The memory this tensor lies in, as bytes (shared with the tensor)."""
    return UntypedStorage(_flat_bytes(self.array))


def storage(self):
    """The memory this tensor lies in, as elements of its dtype (shared with the tensor)."""
    return TypedStorage(_flat_bytes(self.array), self.dtype)


def set_(self, source=None, *args, **kwargs):
    """Make this tensor share ``source``'s memory, shape and strides (a Tensor), or lie over a
    whole storage in 1-D, or be empty (no source); bumps the version. PyTorch's
    ``set_(source, storage_offset, size, stride)`` form is left out. Not differentiable: a
    tensor that requires grad is refused while grad mode is on (PyTorch's error for a leaf)."""
    if args or kwargs:
        raise TypeError("set_(source, storage_offset, size, stride) is not supported by "
                        "tinygen; use set_(source) with a tensor or a storage")
    xp = get_array_module(self.array)
    if source is None:
        array = xp.empty((0,), dtype=self.dtype)
    elif isinstance(source, UntypedStorage):
        array = TypedStorage(source._bytes, self.dtype)._flat()
    elif hasattr(source, "array") and hasattr(source, "grad_fn"):
        array = source.array
    else:
        raise TypeError(f"set_(): expected a Tensor or a storage as source, got "
                        f"{type(source).__name__}")
    if array.dtype != self.dtype:
        raise RuntimeError(f"set_: could not set a tensor of dtype {self.dtype} to "
                           f"memory of dtype {array.dtype}")
    if device_of(array) != self.device:
        raise RuntimeError(f"set_: could not set a tensor on {self.device} to memory on "
                           f"{device_of(array)}")
    if self.requires_grad and is_grad_enabled():
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation." if self.is_leaf else
                           "set_: not differentiable in tinygen; call it under no_grad()")
    self.array = array
    self._shared_version()[0] += 1
    return self
