"""Choosing and comparing: clamp, maximum, minimum, where, nonzero, and the comparison, logical
and bitwise ops, the tests (isnan, signbit, isin, ...), gcd, lcm and nextafter (which return bool
or integer tensors, or are step functions, and are not differentiable), allclose and equal
(Python bools)."""

import functools

import numpy as np

from tinygen import dtypes
from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module, to_device as _array_to_device
from tinygen.errors import ArgumentError, DtypeNotImplementedError, broadcast_error
from tinygen.ops.convert import binary_operands, cast, constant_like
from tinygen.tensor import Tensor


class Clamp(ArrayFunction):
    """y = min(max(x, lo), hi), so y = hi where lo > hi. The gradient is routed as PyTorch's:
    to x where lo <= x <= hi (bounds included), to lo where x < lo < hi, and to hi where x > hi
    or hi < lo; at the kinks each element's gradient goes to one input, not split in half."""
    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = get_array_module(x)
        y = x if lo is None else xp.maximum(x, lo)
        y = y if hi is None else xp.minimum(y, hi)
        if any(ctx.needs_input_grad):
            routes = _clamp_routes(x, lo, hi)
            ctx.save_for_backward(*(route if need else None
                                    for route, need in zip(routes, ctx.needs_input_grad)))
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        return tuple(None if route is None else where(route, grad_y, 0)
                     for route in ctx.saved_tensors)


def _clamp_routes(x, lo, hi):
    """Bool arrays: where clamp's gradient goes to x, to lo and to hi (None: not there)."""
    to_x = to_lo = to_hi = None
    if lo is not None:
        to_x, to_lo = x >= lo, x < lo
    if hi is not None:
        to_x = x <= hi if to_x is None else to_x & (x <= hi)
        to_hi = x > hi
    if lo is not None and hi is not None:
        to_lo, to_hi = to_lo & (lo < hi), to_hi | (hi < lo)
    return to_x, to_lo, to_hi


class Maximum(ArrayFunction):
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


class Where(ArrayFunction):
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
    """Limit x to [min, max]; either bound may be None, and where min > max the result is max
    (as PyTorch). Bounds are numbers or tensors (broadcast with x); the result has the common
    dtype of x and the bounds, so an integer tensor clamped to 1.5 becomes float."""
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of 'min' or 'max' must not be None")
    min, max = (b.item() if isinstance(b, np.generic) else b for b in (min, max))
    if x.dtype.kind == "f" and not isinstance(min, Tensor) and not isinstance(max, Tensor):
        return Clamp.apply(x, min, max)  # the common case: numbers never widen a float tensor
    dtype = _result_dtype(x, min, max)
    if dtype == dtypes.bool and (min is not None and max is not None or not isinstance(
            max if min is None else min, Tensor)):      # PyTorch clamps bools by one tensor only
        raise NotImplementedError("clamp is not implemented for bool results with two bounds or "
                                  "a number bound; clamp an integer copy (x.long())")
    x, min, max = (cast(t, dtype) if isinstance(t, Tensor) and t.dtype != dtype else t
                   for t in (x, min, max))
    return Clamp.apply(x, min, max)


clip = clamp


def _result_dtype(*operands):
    """PyTorch's result dtype of tensors and Python numbers (None is skipped): dtypes promote
    within each group (dimensioned tensors, 0-d tensors, numbers), and a later group decides
    only by being of a higher category (bool < integer < float; see dtypes.result_type)."""
    tensors = [t for t in operands if isinstance(t, Tensor)]
    numbers = [n for n in operands if n is not None and not isinstance(n, Tensor)]
    dimensioned = [t.dtype for t in tensors if t.ndim > 0]
    zero_dim = [t.dtype for t in tensors if t.ndim == 0]
    dtype = None
    for group, ndim in ((dimensioned, 1), (zero_dim, 0)):
        if group:
            group_dtype = functools.reduce(
                lambda a, b: dtypes.result_type(a, ndim, b, ndim), group)
            dtype = group_dtype if dtype is None else dtypes.result_type(dtype, 1, group_dtype, 0)
    for number in numbers:
        dtype = dtypes.result_type(dtype, 1, dtypes._scalar_dtype(number), 0, True)
    return dtype


def maximum(a, b):
    return Maximum.apply(*binary_operands(a, b))


def minimum(a, b):
    return Minimum.apply(*binary_operands(a, b))


def where(condition, input=None, other=None):
    """Elementwise choice: ``input`` where ``condition`` holds, else ``other`` (tensors or
    numbers). ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() takes a condition and both input and other, or the condition "
                        "alone")
    if not isinstance(condition, Tensor):
        like = input if isinstance(input, Tensor) else other
        condition = Tensor(_array_to_device(np.asarray(condition), like.device))
    if condition.dtype != dtypes.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype}; compare first, e.g. mask != 0")
    input, other = (v.item() if isinstance(v, np.generic) else v for v in (input, other))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(get_array_module(condition.array).asarray(
            input, dtype=dtypes.as_dtype(type(input))))
    input, other = binary_operands(input, other)
    return Where.apply(condition, input, other)


def nonzero(x, as_tuple=False):
    """The indices of x's nonzero elements in row-major order: an (n, x.ndim) int64 tensor, or
    with ``as_tuple`` one 1-D int64 tensor per dim (a 0-d x counts as 1-D, as in PyTorch)."""
    xp = get_array_module(x.array)
    indices = [i.astype(dtypes.int64, copy=False)
               for i in xp.nonzero(x.array.reshape(1) if x.ndim == 0 else x.array)]
    if as_tuple:
        return tuple(Tensor(i) for i in indices)
    if x.ndim == 0:
        return Tensor(xp.zeros((indices[0].size, 0), dtype=dtypes.int64))
    return Tensor(xp.stack(indices, axis=1))


def _not_differentiable(name, ufunc_name, doc, integral=False):
    """An elementwise op of two tensors/numbers, run on the arrays outside the graph: its result
    is bool or integer, so it has no gradient. ``integral`` ops (bitwise) refuse floats."""
    def op(a, b):
        a, b = binary_operands(a, b)
        tensor = a if isinstance(a, Tensor) else b
        if integral:
            _refuse_float(tensor, name)
        arrays = [t.array if isinstance(t, Tensor) else t for t in (a, b)]
        try:
            return Tensor(getattr(get_array_module(tensor.array), ufunc_name)(*arrays))
        except ValueError:
            clash = broadcast_error(name, [np.shape(array) for array in arrays])
            if clash is None:
                raise
            raise clash from None
    op.__name__, op.__qualname__, op.__doc__ = name, name, doc
    return op


def _refuse_float(x, name):
    if x.dtype.kind not in "biu":
        raise DtypeNotImplementedError(f"{name} is only implemented on integer and bool "
                                       f"tensors, got {x.dtype}")


eq, ne, lt, le, gt, ge = (
    _not_differentiable(name, ufunc, f"Elementwise {ufunc} as a bool tensor.")
    for name, ufunc in (("eq", "equal"), ("ne", "not_equal"), ("lt", "less"),
                        ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal")))
logical_and, logical_or, logical_xor = (
    _not_differentiable(name, name, f"Elementwise {name}, nonzero meaning true (a bool tensor).")
    for name in ("logical_and", "logical_or", "logical_xor"))
bitwise_and, bitwise_or, bitwise_xor = (
    _not_differentiable(name, name, f"Elementwise {name} of integer tensors; logical on bool "
                                    f"tensors (a bool result); floats are refused.", True)
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"))
gcd, lcm = (
    _not_differentiable(name, name, f"The elementwise {name} of integer tensors (always >= 0).",
                        True)
    for name in ("gcd", "lcm"))


class NextAfter(ArrayFunction):
    """y = nextafter(a, b), one ulp from a;  dy/da = 1, dy/db = 0, as PyTorch."""
    @staticmethod
    def forward(ctx, a, b):
        return get_array_module(a).nextafter(a, b)

    @staticmethod
    def backward(ctx, grad_y):
        zero = Tensor(get_array_module(grad_y.array).zeros(grad_y.shape, dtype=grad_y.dtype))
        return (grad_y if ctx.needs_input_grad[0] else None,
                zero if ctx.needs_input_grad[1] else None)


def nextafter(input, other):
    """The next floating-point value after input in the direction of other."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"nextafter is only implemented for floating point tensors, got "
                           f"{input.dtype}")
    input, other = binary_operands(input, other)
    return NextAfter.apply(input, other)


def bitwise_not(x):
    """~x: bitwise on integer tensors (~5 == -6), logical on bool tensors; floats are refused."""
    _refuse_float(x, "bitwise_not")
    return Tensor(get_array_module(x.array).invert(x.array))


def logical_not(x):
    return Tensor(get_array_module(x.array).logical_not(x.array))


class Step(ArrayFunction):
    """y = ``rounder(*inputs)``, a step function of the inputs (floor(x), a // b);  dy/dx = 0,
    as PyTorch ignores the jumps."""
    @staticmethod
    def forward(ctx, rounder, *inputs):
        return rounder(*inputs)

    @staticmethod
    def backward(ctx, grad_y):
        zero = Tensor(get_array_module(grad_y.array).zeros(grad_y.shape, dtype=grad_y.dtype))
        return (None,) + tuple(zero if need else None for need in ctx.needs_input_grad[1:])


def sign(x):
    """-1, 0 or 1 in x's dtype; a bool tensor is its own sign (NumPy has no bool sign). A step
    function: in the graph with gradient 0, as PyTorch's."""
    if x.dtype.kind == "b":
        return Tensor(x.array.copy())
    if x.dtype.kind == "f":
        return Step.apply(get_array_module(x.array).sign, x)
    return Tensor(get_array_module(x.array).sign(x.array))




def isnan(x):
    return Tensor(get_array_module(x.array).isnan(x.array))


def isfinite(x):
    return Tensor(get_array_module(x.array).isfinite(x.array))


def isinf(x):
    return Tensor(get_array_module(x.array).isinf(x.array))


def signbit(x):
    """Whether the sign bit is set (true for -0.0 too)."""
    return Tensor(get_array_module(x.array).signbit(x.array))


def isposinf(x):
    return Tensor(get_array_module(x.array).isposinf(x.array))


def isneginf(x):
    return Tensor(get_array_module(x.array).isneginf(x.array))


def isreal(x):
    """Whether each element is real: its imaginary part is 0 (always, for a real dtype)."""
    if x.dtype.kind == "c":
        return Tensor(x.array.imag == 0)
    return Tensor(get_array_module(x.array).ones(x.shape, dtype=dtypes.bool))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of ``elements`` occurs in ``test_elements`` (either may be a number), as a
    bool tensor of the shape of ``elements``; ``invert`` gives the opposite."""
    like = elements if isinstance(elements, Tensor) else test_elements
    xp = get_array_module(like.array)
    arrays = [t.array if isinstance(t, Tensor) else xp.asarray(t)
              for t in (elements, test_elements)]
    return Tensor(xp.isin(*arrays, assume_unique=assume_unique, invert=invert))


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
