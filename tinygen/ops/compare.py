"""Choosing and comparing: clamp, maximum, minimum, where, and the comparison and logical ops
(which return bool tensors and are not differentiable), allclose and equal (Python bools)."""

import numpy as np

from tinygen import dtypes
from tinygen.autograd.function import Function
from tinygen.backend import get_array_module, to_device as _array_to_device
from tinygen.ops.convert import binary_operands, cast, constant_like
from tinygen.tensor import Tensor


class Clamp(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 inside [lo, hi] (bounds included, as PyTorch)."""
    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = get_array_module(x)
        inside = xp.ones(x.shape, dtype=bool)
        y = x
        if lo is not None:
            inside &= x >= lo
            y = xp.maximum(y, lo)
        if hi is not None:
            inside &= x <= hi
            y = xp.minimum(y, hi)
        ctx.save_for_backward(inside)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        (inside,) = ctx.saved_tensors
        return grad_y * constant_like(inside.array, grad_y), None, None


class Maximum(Function):
    """y = max(a, b) elementwise; at ties each input gets half of the gradient (as PyTorch)."""
    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a)
        ctx.save_for_backward((a > b) + 0.5 * (a == b))
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_y):
        (share_a,) = ctx.saved_tensors
        share_a = constant_like(share_a.array, grad_y)
        return grad_y * share_a, grad_y * (1 - share_a)


class Minimum(Maximum):
    """y = min(a, b) elementwise; at ties each input gets half of the gradient (as PyTorch).
    The backward is Maximum's: a's share of the gradient was saved by forward."""
    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a)
        ctx.save_for_backward((a < b) + 0.5 * (a == b))
        return xp.minimum(a, b)


class Where(Function):
    """y = a where cond else b;  the gradient goes to whichever input was picked."""
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return get_array_module(cond).where(cond, a, b)

    @staticmethod
    def backward(ctx, grad_y):
        (cond,) = ctx.saved_tensors
        grad_a = where(cond, grad_y, 0) if ctx.needs_input_grad[1] else None
        grad_b = where(cond, 0, grad_y) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


def clamp(x, min=None, max=None):
    """Limit x to [min, max]; either bound may be None. Bounds are Python numbers."""
    if min is None and max is None:
        raise ValueError("clamp needs at least one of min and max")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lower = x if min is None else maximum(x, min)
        return lower if max is None else minimum(lower, max)
    return Clamp.apply(x, min, max)


clip = clamp


def maximum(a, b):
    return Maximum.apply(*binary_operands(a, b))


def minimum(a, b):
    return Minimum.apply(*binary_operands(a, b))


def where(condition, a, b):
    """Elementwise choice: ``a`` where ``condition`` holds, else ``b`` (tensors or numbers)."""
    if not isinstance(condition, Tensor):
        like = a if isinstance(a, Tensor) else b
        condition = Tensor(_array_to_device(np.asarray(condition), like.device))
    if condition.dtype != dtypes.bool:
        condition = cast(condition, dtypes.bool)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(get_array_module(condition.array).asarray(a, dtype=dtypes.as_dtype(type(a))))
    a, b = binary_operands(a, b)
    return Where.apply(condition, a, b)


def _compare(ufunc_name):
    def compare(a, b):
        a, b = binary_operands(a, b)
        xp = get_array_module(a.array if isinstance(a, Tensor) else b.array)
        arrays = [t.array if isinstance(t, Tensor) else t for t in (a, b)]
        return Tensor(getattr(xp, ufunc_name)(*arrays))
    compare.__name__ = ufunc_name
    compare.__doc__ = f"Elementwise {ufunc_name} as a bool tensor (not differentiable)."
    return compare


eq, ne, lt, le, gt, ge = (_compare(name) for name in (
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal"))
logical_and, logical_or, floor_divide, remainder = (_compare(name) for name in (
    "logical_and", "logical_or", "floor_divide", "remainder"))


def logical_not(x):
    return Tensor(get_array_module(x.array).logical_not(x.array))


def sign(x):
    return Tensor(get_array_module(x.array).sign(x.array))


def isnan(x):
    return Tensor(get_array_module(x.array).isnan(x.array))


def isfinite(x):
    return Tensor(get_array_module(x.array).isfinite(x.array))


def isinf(x):
    return Tensor(get_array_module(x.array).isinf(x.array))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether |input - other| <= atol + rtol * |other| everywhere (a Python bool; broadcasts)."""
    a, b = binary_operands(input, other)
    xp = get_array_module(a.array if isinstance(a, Tensor) else b.array)
    arrays = [t.array if isinstance(t, Tensor) else t for t in (a, b)]
    return bool(xp.allclose(*arrays, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    """Whether both tensors have the same shape and the same elements (a Python bool)."""
    if input.shape != other.shape:
        return False
    a, b = binary_operands(input, other)
    return bool((a.array == b.array).all())
