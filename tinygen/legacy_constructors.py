"""PyTorch's legacy constructors: ``tg.Tensor(2, 3)``, ``tg.Tensor([1, 2])``, ``tg.FloatTensor``...

``torch.Tensor(*sizes)`` is a (zero-filled here, uninitialised in PyTorch) tensor of that shape
and ``torch.Tensor(data)`` copies Python data into the default float dtype; the typed
constructors (``LongTensor`` ...) do the same with a fixed dtype. A single number that is no
int (``Tensor(2.5)``) is refused with PyTorch's TypeError. ``Tensor(ndarray)`` is tinygen's own
extension and wraps the array unchanged (``tensor.py`` handles it before calling here).
"""

import numpy as np

from tinygen import backend, creation, dtypes
from tinygen.tensor import Tensor


def constructor_array(args, dtype=None):
    """The array ``Tensor(*args)`` holds, in ``dtype`` (None: the default float dtype)."""
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if len(args) == 0:
        return _on_default_device(np.zeros((0,), dtype))
    if len(args) == 1 and _is_data(args[0]):
        return _on_default_device(_data_array(args[0], dtype))
    for n in args:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            what = type(n).__name__
            raise TypeError(f"new(): data must be a sequence (got {what})" if len(args) == 1
                            else f"new(): sizes must be ints, got {what} in {args}")
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {int(n)}: "
                               f"{[int(m) for m in args]}")
    return _on_default_device(np.zeros(tuple(int(n) for n in args), dtype))


def _is_data(value):
    """Whether one argument is data rather than a size: sequences, arrays and tensors are;
    NumPy scalars (which NumPy 2 gives ``__array_namespace__`` too) are not."""
    return isinstance(value, (list, tuple, Tensor, np.ndarray)) or (
        hasattr(value, "__array_namespace__") and not isinstance(value, np.generic))


def _data_array(data, dtype):
    if isinstance(data, Tensor):
        if data.dtype != dtype:
            raise TypeError(f"expected a tensor of dtype {dtype} but got {data.dtype}")
        return data.array
    if isinstance(data, (list, tuple)):
        return creation.array_from_data(data).astype(dtype)
    return backend.get_array_module(data).asarray(data).astype(dtype)


def _on_default_device(array):
    return backend.to_device(array, backend.default_device())


def _typed(name, dtype):
    """A legacy typed constructor: ``Tensor``'s rules with ``dtype`` fixed."""
    def constructor(*args, device=None):
        array = constructor_array(args, dtype)
        if device is not None:
            array = backend.to_device(array, backend.Device(device))
        return Tensor(array)
    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = f"``tg.{name}(*sizes)`` or ``tg.{name}(data)``: a {dtype} tensor."
    return constructor


FloatTensor = _typed("FloatTensor", dtypes.float32)
DoubleTensor = _typed("DoubleTensor", dtypes.float64)
HalfTensor = _typed("HalfTensor", dtypes.float16)
LongTensor = _typed("LongTensor", dtypes.int64)
IntTensor = _typed("IntTensor", dtypes.int32)
ByteTensor = _typed("ByteTensor", dtypes.uint8)
BoolTensor = _typed("BoolTensor", dtypes.bool)
