"""Elementwise ops: arithmetic, unary math, comparisons, where/maximum/minimum/clamp, casts.

Binary ops broadcast like NumPy; their backward returns gradients of the broadcast shape and the
engine sums them back to each input's shape. Python numbers are passed to forward as they are
(they need no gradient), so ``x * 2.0`` costs one op. Dtypes follow PyTorch (see dtypes.py).
"""

import numbers

import numpy as np

from tinygen import dtypes
from tinygen.autograd.function import Function
from tinygen.backend import get_array_module, to_device as _array_to_device
from tinygen.tensor import Tensor


def _operands(a, b, float_result=False):
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
    if float_result and target.kind != "f":
        target = dtypes.get_default_dtype()
    if isinstance(a, Tensor) and a.dtype != target:
        a = cast(a, target)
    if isinstance(b, Tensor) and b.dtype != target:
        b = cast(b, target)
    return a, b


def _number_or_tensor(value, like):
    """Python numbers stay numbers; arrays and NumPy scalars become tensors on ``like``'s device."""
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, np.generic) and value.ndim == 0:
        return value.item()
    if isinstance(value, numbers.Number) or not hasattr(value, "__len__") and not hasattr(
            value, "__array_namespace__"):
        raise TypeError(f"unsupported operand type {type(value).__name__} for a tensor op")
    return Tensor(_array_to_device(np.asarray(value) if isinstance(value, (list, tuple))
                                   else value, like.device))


def _mask(array, like):
    """A constant tensor of ``array`` (a mask or weights) in the dtype of ``like``."""
    return Tensor(array.astype(like.dtype, copy=False))


def _exponent_minus_one(b):
    """b - 1 for d(a**b)/da = b a**(b-1), but 1 where b == 0: there the derivative is 0 (x**0 is
    constant), while b * a**(b-1) at a == 0 would give 0 * inf = nan."""
    if isinstance(b, Tensor):
        return where(b == 0, 1, b - 1)
    return 1 if b == 0 else b - 1


def _float_input(x):
    """Unary float ops (exp, log, ...) promote integer and bool tensors to the default float."""
    return x if x.dtype.kind == "f" else cast(x, dtypes.get_default_dtype())


class Add(Function):
    """y = a + b;  dy/da = dy/db = 1."""
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, grad_y


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1."""
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, (-grad_y if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        grad_a = grad_y * b if ctx.needs_input_grad[0] else None
        grad_b = grad_y * a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """y = a / b;  dy/da = 1 / b, dy/db = -a / b**2 = -y / b."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        grad_a = grad_y / b if ctx.needs_input_grad[0] else None
        grad_b = -grad_y * a / (b * b) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    """y = -x."""
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_y):
        return -grad_y


class Pow(Function):
    """y = a ** b;  dy/da = b a**(b-1),  dy/db = y log(a) (taken as 0 where a == 0)."""
    @staticmethod
    def forward(ctx, a, b):
        y = a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        a, b, y = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = grad_y * b * a ** _exponent_minus_one(b)
        if ctx.needs_input_grad[1]:
            safe_log = log(where(a == 0, 1, a))       # 0 ** b has derivative 0 in b (for b > 0)
            grad_b = grad_y * y * safe_log
        return grad_a, grad_b


class Exp(Function):
    """y = exp(x);  dy/dx = y."""
    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * y


class Log(Function):
    """y = log(x);  dy/dx = 1 / x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).log(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y / x


class Log1p(Function):
    """y = log(1 + x), accurate for small x;  dy/dx = 1 / (1 + x)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).log1p(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y / (x + 1)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)."""
    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y / (2 * y)


class Sin(Function):
    """y = sin(x);  dy/dx = cos(x)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).sin(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * cos(x)


class Cos(Function):
    """y = cos(x);  dy/dx = -sin(x)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).cos(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return -grad_y * sin(x)


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y**2, so only the output is kept."""
    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return TanhBackward.apply(grad_y, y)


class TanhBackward(Function):
    """z = g (1 - y**2), tanh's backward as one op;  dz/dg = 1 - y**2,  dz/dy = -2 g y."""
    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        return g * (1 - y * y)

    @staticmethod
    def backward(ctx, grad_z):
        g, y = ctx.saved_tensors
        grad_g = TanhBackward.apply(grad_z, y) if ctx.needs_input_grad[0] else None
        grad_y = grad_z * g * y * -2 if ctx.needs_input_grad[1] else None
        return grad_g, grad_y


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y)."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        y = xp.exp(-xp.logaddexp(0, -x))       # = 1 / (1 + exp(-x)) without overflow at -1e4
        y = xp.asarray(y, dtype=x.dtype)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return SigmoidBackward.apply(grad_y, y)


class SigmoidBackward(Function):
    """z = g y (1 - y), sigmoid's backward as one op;  dz/dg = y (1 - y),  dz/dy = g (1 - 2 y)."""
    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        return g * y * (1 - y)

    @staticmethod
    def backward(ctx, grad_z):
        g, y = ctx.saved_tensors
        grad_g = SigmoidBackward.apply(grad_z, y) if ctx.needs_input_grad[0] else None
        grad_y = grad_z * g * (1 - 2 * y) if ctx.needs_input_grad[1] else None
        return grad_g, grad_y


class Relu(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0 (also at the kink, as PyTorch)."""
    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * _mask(y.array > 0, grad_y)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).abs(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * Tensor(get_array_module(x.array).sign(x.array))


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
        return grad_y * _mask(inside.array, grad_y), None, None


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
        share_a = _mask(share_a.array, grad_y)
        return grad_y * share_a, grad_y * (1 - share_a)


class Minimum(Function):
    """y = min(a, b) elementwise; at ties each input gets half of the gradient (as PyTorch)."""
    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a)
        ctx.save_for_backward((a < b) + 0.5 * (a == b))
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad_y):
        (share_a,) = ctx.saved_tensors
        share_a = _mask(share_a.array, grad_y)
        return grad_y * share_a, grad_y * (1 - share_a)


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


class Cast(Function):
    """y = x converted to ``dtype``; the gradient is converted back."""
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_y):
        return cast(grad_y, ctx.dtype), None


class ToDevice(Function):
    """y = x copied to ``device``; the gradient is copied back."""
    @staticmethod
    def forward(ctx, x, device):
        ctx.source = Tensor(x).device
        return _array_to_device(x, device)

    @staticmethod
    def backward(ctx, grad_y):
        return to_device(grad_y, ctx.source), None


class Clone(Function):
    """y = a copy of x with its own memory."""
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y


def add(a, b):
    return Add.apply(*_operands(a, b))


def sub(a, b):
    return Sub.apply(*_operands(a, b))


def mul(a, b):
    return Mul.apply(*_operands(a, b))


def div(a, b):
    return Div.apply(*_operands(a, b, float_result=True))


def neg(x):
    return Neg.apply(x)


def pow(a, b):
    a, b = _operands(a, b)
    if not isinstance(a, Tensor):
        a = Tensor(get_array_module(b.array).asarray(a, dtype=b.dtype))
    return Pow.apply(a, b)


def exp(x):
    return Exp.apply(_float_input(x))


def log(x):
    return Log.apply(_float_input(x))


def log1p(x):
    return Log1p.apply(_float_input(x))


def sqrt(x):
    return Sqrt.apply(_float_input(x))


def rsqrt(x):
    return 1 / sqrt(x)


def sin(x):
    return Sin.apply(_float_input(x))


def cos(x):
    return Cos.apply(_float_input(x))


def tanh(x):
    return Tanh.apply(_float_input(x))


def sigmoid(x):
    return Sigmoid.apply(_float_input(x))


def relu(x):
    return Relu.apply(x)


def abs(x):
    return Abs.apply(x)


def square(x):
    return x * x


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
    return Maximum.apply(*_operands(a, b))


def minimum(a, b):
    return Minimum.apply(*_operands(a, b))


def where(condition, a, b):
    """Elementwise choice: ``a`` where ``condition`` holds, else ``b`` (tensors or numbers)."""
    if not isinstance(condition, Tensor):
        like = a if isinstance(a, Tensor) else b
        condition = Tensor(_array_to_device(np.asarray(condition), like.device))
    if condition.dtype != dtypes.bool:
        condition = cast(condition, dtypes.bool)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(get_array_module(condition.array).asarray(a, dtype=dtypes.as_dtype(type(a))))
    a, b = _operands(a, b)
    return Where.apply(condition, a, b)


def cast(x, dtype):
    return Cast.apply(x, dtype)


def to_device(x, device):
    return ToDevice.apply(x, device)


def clone(x):
    return Clone.apply(x)


def _compare(ufunc_name):
    def compare(a, b):
        a, b = _operands(a, b)
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
