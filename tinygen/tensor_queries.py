"""Tensor methods that answer questions about a tensor's memory and kind (``stride()``,
``data_ptr()``, ``is_signed()`` ...), small conveniences (``new_empty``, ``byte()``,
``sum_to_size`` ...) and the gradient bookkeeping PyTorch exposes (``retains_grad``,
``register_post_accumulate_grad_hook``). Attached to ``Tensor`` below, as tensor_methods.py does.

Strides and offsets are in elements, as PyTorch's, read from the numpy/cupy array, whose own
strides are in bytes.
"""

from tinygen import creation, dtypes, ops
from tinygen.autograd.function import memory_owner
from tinygen.errors import DtypeError
from tinygen.tensor import Tensor, _HookHandle, _RetainGrad


def check_assigned_grad(tensor, grad):
    """Refuse a ``.grad`` that is no tensor or differs from ``tensor`` in shape, dtype or device,
    as PyTorch does (an optimizer would otherwise fail far from the assignment, or broadcast)."""
    if not isinstance(grad, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(grad).__name__}")
    if grad.shape != tensor.shape:
        raise RuntimeError(f"assigned grad has data of a different size: a gradient of shape "
                           f"{tuple(grad.shape)} for a tensor of shape {tuple(tensor.shape)}")
    if grad.dtype != tensor.dtype:
        raise RuntimeError(f"assigned grad has data of a different type: a gradient of dtype "
                           f"{grad.dtype} for a tensor of dtype {tensor.dtype}")
    if grad.device != tensor.device:
        raise RuntimeError(f"assigned grad has data located on a different device: a gradient "
                           f"on {grad.device} for a tensor on {tensor.device}")


def _address(array):
    """The address of an array's first element (numpy or cupy)."""
    if hasattr(array, "__array_interface__"):
        return array.__array_interface__["data"][0]
    return array.data.ptr


def stride(self, dim=None):
    """The step between neighbours along each dim, in elements (or along ``dim``)."""
    strides = tuple(s // self.array.itemsize for s in self.array.strides)
    return strides if dim is None else strides[dim]


def storage_offset(self):
    """Where this tensor's first element lies in the memory it shares, in elements."""
    owner = memory_owner(self.array)
    while getattr(owner, "base", None) is not None:     # through as_strided's wrappers
        owner = owner.base
    return (_address(self.array) - _address(owner)) // self.array.itemsize if hasattr(
        owner, "strides") else 0


def data_ptr(self):
    return _address(self.array)


def get_device(self):
    """The CUDA device index, or -1 on the CPU (as PyTorch)."""
    return -1 if self.device.type == "cpu" else (self.device.index or 0)


def is_nonzero(self):
    """The truth of a one-element tensor; PyTorch's errors for any other size."""
    if self.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if self.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(self.item())


def is_signed(self):
    return self.dtype.kind in "fi"


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return creation.empty(*size, dtype=dtype or self.dtype, device=device or self.device,
                          requires_grad=requires_grad)


def narrow_copy(self, dim, start, length):
    return ops.narrow(self, dim, start, length).clone()


def sum_to_size(self, *size):
    """Sum to ``size``, which ``self`` must be expandable from (the reverse of ``expand``);
    bool and integer sums are int64, as PyTorch's, unless ``size`` is already self's shape."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    lead = self.ndim - len(size)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(size, self.shape[lead:])):
        raise RuntimeError(f"size {list(size)} is not expandable to size "
                           f"{list(self.shape)}")
    if tuple(self.shape) == size and size:
        return self
    # a real sum (PyTorch's at::sum_to sums a 0-d tensor to () too): bool and ints give int64
    return ops.sum_to(self.long() if self.dtype.kind in "biu" else self, size)


def positive(self):
    if self.dtype == dtypes.bool:
        raise DtypeError("The `+` operator, on a bool tensor is not supported.")
    return self


@property
def retains_grad(self):
    """Whether ``retain_grad()`` was called on this non-leaf tensor."""
    if self.grad_fn is None or self.grad_fn.output_hooks is None:
        return False
    hooks = self.grad_fn.output_hooks.get(self._output_nr, ())
    return any(isinstance(hook, _RetainGrad) for hook in hooks)


class _PostAccumulateHook:
    """``hook(tensor)``, run by the engine once the leaf's ``.grad`` holds the new sum (it is
    skipped where the gradient hooks run: see engine.py)."""
    post_accumulate = True

    def __init__(self, hook):
        self.hook = hook

    def __call__(self, tensor):
        self.hook(tensor)


def register_post_accumulate_grad_hook(self, hook):
    """Call ``hook(self)`` after backward has accumulated into ``self.grad`` (leaves only)."""
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require grad")
    if self._hooks is None:
        self._hooks = []
    wrapped = _PostAccumulateHook(hook)
    self._hooks.append(wrapped)
    return _HookHandle(self._hooks, wrapped)


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def type_(self, dtype=None):
    """``x.type()``: PyTorch's type name ('tinygen.FloatTensor', 'tinygen.cuda.LongTensor');
    ``x.type(dtype)``: ``x.to(dtype)``, where dtype may also be such a name."""
    if dtype is None:
        return ("tinygen.cuda." if self.is_cuda else "tinygen.") + _TYPE_NAMES[self.dtype.name]
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        names = {name: dtype_name for dtype_name, name in _TYPE_NAMES.items()}
        if dtype.rsplit(".", 1)[-1] not in names:
            raise ValueError(f"invalid type: {dtype!r}")
        dtype = dtypes.as_dtype(names[dtype.rsplit(".", 1)[-1]])
    return self.to(dtype)


def _cast(dtype):
    def method(self):
        return self.to(dtype)
    return method


for _name, _value in {
        "stride": stride, "storage_offset": storage_offset, "data_ptr": data_ptr,
        "get_device": get_device, "is_nonzero": is_nonzero, "is_signed": is_signed,
        "new_empty": new_empty, "narrow_copy": narrow_copy, "sum_to_size": sum_to_size,
        "positive": positive, "retains_grad": retains_grad,
        "register_post_accumulate_grad_hook": register_post_accumulate_grad_hook,
        "byte": _cast(dtypes.as_dtype("uint8")), "char": _cast(dtypes.as_dtype("int8")),
        "short": _cast(dtypes.as_dtype("int16")), "int": _cast(dtypes.int32),
        "long": _cast(dtypes.int64), "bool": _cast(dtypes.bool), "type": type_,
        "broadcast_to": lambda self, size: ops.broadcast_to(self, size),
        "is_same_size": lambda self, other: tuple(self.shape) == tuple(other.shape),
        "is_complex": lambda self: self.dtype.kind == "c",
        "is_inference": lambda self: False,
        "nbytes": property(lambda self: int(self.array.nbytes)),
        "itemsize": property(lambda self: int(self.array.itemsize)),
        "is_cpu": property(lambda self: self.device.type == "cpu")}.items():
    setattr(Tensor, _name, _value)
