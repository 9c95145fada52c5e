"""Operands and conversions: PyTorch's dtype rules for binary ops, and the differentiable
casts and copies (``cast``, ``to_device``, ``clone``) they rely on.

Binary ops take Tensors or Python numbers (NumPy scalars count as these). Numbers are passed to
forward as they are (they need no gradient), so ``x * 2.0`` costs one op; tensors of different
dtypes are cast to the common dtype first (see dtypes.py).
"""

import numbers

import numpy as np

from tinygen import dtypes
from tinygen.autograd.function import ArrayFunction, note_complex
from tinygen.backend import to_device as _array_to_device
from tinygen.tensor import Tensor


def binary_operands(a, b, float_result=False):
    """Promote a pair of Tensors/Python numbers to PyTorch's common dtype.

    At least one of ``a``, ``b`` is a Tensor. ``float_result`` is for ops whose result is
    always floating point (true division): integer operands then give the default float dtype.
    """
    if isinstance(a, Tensor):                # fast paths: the common cases need no promotion
        kind = a.array.dtype.kind
        if isinstance(b, Tensor):
            if a.array.dtype == b.array.dtype and (kind == "f" or not float_result):
                return a, b
        elif kind == "f" and type(b) in (float, int):
            return a, b
    a_number, b_number = not isinstance(a, Tensor), not isinstance(b, Tensor)
    if a_number:
        a = _number_or_tensor(a, b)
    if b_number:
        b = _number_or_tensor(b, a)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        target = dtypes.result_type(a.dtype, a.ndim, b.dtype, b.ndim)
    elif isinstance(a, Tensor):
        target = dtypes.result_type(a.dtype, a.ndim, dtypes._scalar_dtype(b), 0, True)
    else:
        target = dtypes.result_type(b.dtype, b.ndim, dtypes._scalar_dtype(a), 0, True)
    if float_result and target.kind not in "fc":
        target = dtypes.get_default_dtype()
    if isinstance(a, Tensor) and a.dtype != target:
        a = cast(a, target)
    if isinstance(b, Tensor) and b.dtype != target:
        b = cast(b, target)
    return _wrap_int(a, target), _wrap_int(b, target)


def _wrap_int(value, dtype):
    """A Python int out of an integer ``dtype``'s range wrapped into it, as PyTorch converts it
    (``uint8_tensor + -3`` adds 253; NumPy 2 would raise OverflowError)."""
    if type(value) is not int or dtype.kind not in "iu":
        return value
    info = np.iinfo(dtype)
    if info.min <= value <= info.max:
        return value
    span = 1 << info.bits
    return (value - info.min) % span + info.min


def _number_or_tensor(value, like):
    """Python numbers stay numbers, and so do NumPy scalars (PyTorch counts them as Python
    numbers, so ``float32_tensor / np.sqrt(8)`` stays float32; NumPy 2 would widen it to
    float64). Arrays become tensors on ``like``'s device."""
    if isinstance(value, np.generic):       # before the float test: np.float64 is a float
        value = value.item()
    if isinstance(value, (bool, int, float, complex)):
        return value
    if isinstance(value, numbers.Number) or not hasattr(value, "__len__") and not hasattr(
            value, "__array_namespace__"):
        raise TypeError(f"unsupported operand type {type(value).__name__} for a tensor op")
    return Tensor(_array_to_device(np.asarray(value) if isinstance(value, (list, tuple))
                                   else value, like.device))


def constant_like(array, like):
    """A constant tensor of ``array`` (a mask or weights) in the dtype of ``like``."""
    return Tensor(array.astype(like.dtype, copy=False))


def float_input(x):
    """Unary float ops (exp, log, ...) promote integer and bool tensors to the default float."""
    return x if x.dtype.kind in "fc" else cast(x, dtypes.get_default_dtype())


class Cast(ArrayFunction):
    """y = x converted to ``dtype``; the gradient is converted back."""
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        if x.dtype.kind == "c" and dtype.kind != "c":
            x = x.real                          # complex to real keeps the real part
        with np.errstate(over="ignore"):        # 1e5 -> float16 is inf, quietly (as PyTorch)
            return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_y):
        return cast(grad_y, ctx.dtype), None


class ToDevice(ArrayFunction):
    """y = x copied to ``device``; the gradient is copied back."""
    @staticmethod
    def forward(ctx, x, device):
        ctx.source = Tensor(x).device
        return _array_to_device(x, device)

    @staticmethod
    def backward(ctx, grad_y):
        return to_device(grad_y, ctx.source), None


class Clone(ArrayFunction):
    """y = a copy of x with its own memory."""
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y


def cast(x, dtype):
    """x in ``dtype``; an integer or bool result has no gradient, so it is left out of the graph
    (as in PyTorch: ``x.long()`` of a tensor that requires grad does not require grad)."""
    if dtype.kind not in "fc":
        array = x.array.real if x.dtype.kind == "c" else x.array
        with np.errstate(over="ignore", invalid="ignore"):     # wraps around, as PyTorch's
            return Tensor(array.astype(dtype))
    if dtype.kind == "c":
        note_complex()
    return Cast.apply(x, dtype)


def to_device(x, device):
    return ToDevice.apply(x, device)


def clone(x):
    return Clone.apply(x)


def write_out(result, out, op):
    """``op(..., out=out)``: copy result into ``out`` and return it. As in PyTorch, ``out`` must
    not take part in autograd; unlike PyTorch it is never resized, so its shape and dtype must
    already be the result's."""
    if out is None:
        return result
    from tinygen.autograd.grad_mode import is_grad_enabled
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad")
    if tuple(out.shape) != tuple(result.shape) or out.dtype != result.dtype:
        raise RuntimeError(f"{op}(): out= has shape {tuple(out.shape)} and dtype {out.dtype}, "
                           f"but the result has shape {tuple(result.shape)} and dtype "
                           f"{result.dtype} (tinygen does not resize out)")
    return out.copy_(result)
