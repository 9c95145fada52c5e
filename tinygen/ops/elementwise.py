"""Elementwise arithmetic and math: + - * / ** and exp, log, sqrt, sin, cos, tanh, sigmoid, relu,
abs.

Binary ops broadcast like NumPy; their backward returns gradients of the broadcast shape and the
engine sums them back to each input's shape. Operands follow PyTorch's dtype rules (convert.py).

Results outside a function's domain follow IEEE 754 quietly, as in PyTorch: 1 / 0 is inf, log(0)
-inf, sqrt(-1) NaN, exp(1e4) inf, with no NumPy RuntimeWarning (``IEEE_QUIET``, the errstate
these forwards run under).
"""

import numpy as np

from tinygen import kernels
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.backend import get_array_module
from tinygen.errors import DtypeError
from tinygen.ops.compare import where
from tinygen.ops.complex_ops import conj
from tinygen.ops.convert import binary_operands, float_input, write_out
from tinygen.tensor import Tensor

IEEE_QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


def _exponent_minus_one(b):
    """b - 1 for d(a**b)/da = b a**(b-1), but 1 where b == 0: there the derivative is 0 (x**0 is
    constant), while b * a**(b-1) at a == 0 would give 0 * inf = nan."""
    if isinstance(b, Tensor):
        return where(b == 0, 1, b - 1)
    return 1 if b == 0 else b - 1


class Add(ArrayFunction):
    """y = a + b;  dy/da = dy/db = 1."""
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, grad_y


class Sub(ArrayFunction):
    """y = a - b;  dy/da = 1, dy/db = -1."""
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, (-grad_y if ctx.needs_input_grad[1] else None)


class Mul(ArrayFunction):
    """y = a * b;  dy/da = b, dy/db = a."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        grad_a = grad_y * conj(b) if ctx.needs_input_grad[0] else None
        grad_b = grad_y * conj(a) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(ArrayFunction):
    """y = a / b;  dy/da = 1 / b, dy/db = -a / b**2 = -y / b. x / 0 is ±inf (0 / 0 NaN)."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(**IEEE_QUIET):
            return a / b

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        grad_a = grad_y / conj(b) if ctx.needs_input_grad[0] else None
        grad_b = -grad_y * conj(a / (b * b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(ArrayFunction):
    """y = -x."""
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_y):
        return -grad_y


class Pow(ArrayFunction):
    """y = a ** b;  dy/da = b a**(b-1),  dy/db = y log(a) (taken as 0 where a == 0)."""
    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(**IEEE_QUIET):                 # 0 ** -1 = inf, (-8) ** 0.5 = NaN
            y = a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        a, b, y = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = grad_y * conj(b * a ** _exponent_minus_one(b))
        if ctx.needs_input_grad[1]:
            # 0 ** b has derivative 0 in b for b >= 0; for b < 0 it is inf * log(0) = -inf
            safe_log = log(where((a == 0) & (b >= 0), 1, a))
            grad_b = grad_y * conj(y * safe_log)
        return grad_a, grad_b


class Exp(ArrayFunction):
    """y = exp(x);  dy/dx = y."""
    @staticmethod
    def forward(ctx, x):
        with np.errstate(**IEEE_QUIET):                # exp(1e4) = inf
            y = get_array_module(x).exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * conj(y)


class Log(ArrayFunction):
    """y = log(x);  dy/dx = 1 / x. log(0) = -inf (masks are often built as log(tril(ones)))."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(**IEEE_QUIET):
            return get_array_module(x).log(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y / conj(x)


class Log1p(ArrayFunction):
    """y = log(1 + x), accurate for small x;  dy/dx = 1 / (1 + x)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(**IEEE_QUIET):
            return get_array_module(x).log1p(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y / (x + 1)


class Sqrt(ArrayFunction):
    """y = sqrt(x);  dy/dx = 1 / (2 y)."""
    @staticmethod
    def forward(ctx, x):
        with np.errstate(**IEEE_QUIET):
            y = get_array_module(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y / (2 * y)


class Sin(ArrayFunction):
    """y = sin(x);  dy/dx = cos(x)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).sin(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * cos(x)


class Cos(ArrayFunction):
    """y = cos(x);  dy/dx = -sin(x)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).cos(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return -grad_y * sin(x)


class Tanh(ArrayFunction):
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


class TanhBackward(ArrayFunction):
    """z = g (1 - y**2), tanh's backward as one op;  dz/dg = 1 - y**2,  dz/dy = -2 g y."""
    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        return g - g * y * y                    # = g (1 - y**2), with no Python scalar (faster)

    @staticmethod
    def backward(ctx, grad_z):
        g, y = ctx.saved_tensors
        grad_g = TanhBackward.apply(grad_z, y) if ctx.needs_input_grad[0] else None
        grad_y = grad_z * g * y * -2 if ctx.needs_input_grad[1] else None
        return grad_g, grad_y


class Sigmoid(ArrayFunction):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y)."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        if x.dtype.kind == "c":                 # no complex logaddexp; inf -> 0 as PyTorch's
            with np.errstate(**IEEE_QUIET):
                y = 1 / (1 + xp.exp(-x))
        else:                                   # 1 / (1 + exp(-x)) without overflow at -1e4
            y = xp.asarray(xp.exp(-xp.logaddexp(0, -x)), dtype=x.dtype)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        if y.dtype.kind == "c":
            return grad_y * conj(y * (1 - y))
        return SigmoidBackward.apply(grad_y, y)


class SigmoidBackward(ArrayFunction):
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


class Relu(ArrayFunction):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0 (also at the kink, as PyTorch). The
    gradient is selected, as PyTorch's threshold_backward does: 0 where y <= 0 even for an
    infinite upstream gradient, and a nan input passes its gradient."""
    @staticmethod
    def forward(ctx, x):
        y = get_array_module(x).maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        if not is_grad_enabled():
            return Tensor(kernels.relu_backward(y.array, grad_y.array))
        return where(Tensor(y.array <= 0), 0, grad_y)


class Abs(ArrayFunction):
    """y = |x|;  dy/dx = sign(x) (0 at 0)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).abs(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        if x.dtype.kind == "c":                 # d|z| = z / |z| in PyTorch's convention
            size = abs(x)
            return grad_y * (x / (size + (size == 0)))
        return grad_y * Tensor(get_array_module(x.array).sign(x.array))


def add(a, b, alpha=1):
    """a + alpha * b."""
    return Add.apply(*binary_operands(a, b if alpha == 1 else b * alpha))


def sub(a, b, alpha=1):
    """a - alpha * b. Booleans are refused, as in PyTorch (``~`` or logical_xor is meant)."""
    if any(t is True or t is False or isinstance(t, Tensor) and t.dtype == np.bool_
           for t in (a, b)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported; "
                           "use the `~` or logical_not() (or `^`, logical_xor()) instead")
    return Sub.apply(*binary_operands(a, b if alpha == 1 else b * alpha))


def mul(input, other, *, out=None):
    result = Mul.apply(*binary_operands(input, other))
    return result if out is None else write_out(result, out, "mul")


def div(a, b, rounding_mode=None):
    """a / b, true division (integers give the default float dtype); with rounding_mode 'trunc'
    or 'floor' the quotient is rounded and keeps an integer dtype (pointwise.rounded_div)."""
    if rounding_mode is not None:
        from tinygen.ops.pointwise import rounded_div     # pointwise imports this module
        return rounded_div(a, b, rounding_mode)
    return Div.apply(*binary_operands(a, b, float_result=True))


def neg(x):
    if isinstance(x, Tensor) and x.dtype.kind == "b":
        raise DtypeError("Negation, the `-` operator, on a bool tensor is not supported; "
                         "to invert a mask use the `~` operator or logical_not()")
    return Neg.apply(x)


def pow(a, b):
    """a ** b in the common dtype. As in PyTorch, bool ** bool is not implemented (but a bool
    tensor ** a Python bool is a bool tensor), and integer tensors raised to negative integer
    tensors give 1 ** b = 1, (-1) ** b = ±1 and 0 otherwise (a negative Python-number exponent
    is an error)."""
    if isinstance(a, Tensor) and a.dtype == np.bool_ and isinstance(b, (bool, np.bool_)):
        xp = get_array_module(a.array)              # x ** True is x, x ** False all True
        return Tensor(a.array.copy() if b else xp.ones_like(a.array))
    if all(isinstance(t, (bool, np.bool_)) or isinstance(t, Tensor) and t.dtype == np.bool_
           for t in (a, b)):
        raise NotImplementedError("pow is not implemented for bool tensors")
    if (isinstance(b, (int, np.integer)) and not isinstance(b, (bool, np.bool_)) and b < 0
            and isinstance(a, Tensor) and a.dtype.kind in "iub"):
        raise RuntimeError(f"Integers to negative integer powers are not allowed ({a.dtype} "
                           f"tensor ** {b})")
    a, b = binary_operands(a, b)
    if not isinstance(a, Tensor):
        a = Tensor(get_array_module(b.array).asarray(a, dtype=b.dtype))
    if isinstance(b, Tensor) and b.dtype.kind in "iu" and a.dtype.kind in "iu":
        return _integer_pow(a, b)
    return Pow.apply(a, b)


def _integer_pow(a, b):
    """Integer a ** b where b may hold negative entries (NumPy refuses them), outside the graph
    as integers have no gradient."""
    xp = get_array_module(a.array)
    x, e = xp.broadcast_arrays(a.array, b.array)
    y = x ** xp.maximum(e, 0)
    one = xp.where(e % 2 == 1, x, 1)                     # (-1) ** e for odd and even e
    y = xp.where(e < 0, xp.where(xp.abs(x) == 1, one, 0), y)
    return Tensor(y.astype(x.dtype, copy=False))


def exp(x):
    return Exp.apply(float_input(x))


def log(x):
    return Log.apply(float_input(x))


def log1p(x):
    return Log1p.apply(float_input(x))


def sqrt(x):
    return Sqrt.apply(float_input(x))


def rsqrt(x):
    return 1 / sqrt(x)


def sin(x):
    return Sin.apply(float_input(x))


def cos(x):
    return Cos.apply(float_input(x))


def tanh(x):
    return Tanh.apply(float_input(x))


def sigmoid(x):
    return Sigmoid.apply(float_input(x))


def relu(x):
    return Relu.apply(x)


def abs(x):
    if x.dtype == np.bool_:
        raise NotImplementedError("abs is not implemented for bool tensors")
    return Abs.apply(x)


def square(x):
    """x * x; a bool tensor is squared as int64, as PyTorch's (it is x ** 2)."""
    if x.dtype == np.bool_:
        x = x.long()
    return x * x
