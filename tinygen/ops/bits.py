"""Bit shifts (``<<``, ``>>``), with no gradient (integer results), and ``frexp``, whose
mantissa has one."""

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.convert import binary_operands, constant_like
from tinygen.tensor import Tensor


def _arrays(a, b):
    """Both operands as arrays of PyTorch's common dtype (a 0-d tensor or a Python int yields to
    a dimensioned tensor of the same category); shifts exist for integers only."""
    a, b = binary_operands(a, b)
    tensor = a if isinstance(a, Tensor) else b
    if tensor.dtype.kind not in "iu":
        raise NotImplementedError(f"bitwise shifts need integer tensors, got {tensor.dtype}")
    xp = get_array_module(tensor.array)
    a_array, b_array = (xp.asarray(t.array if isinstance(t, Tensor) else t, dtype=tensor.dtype)
                        for t in (a, b))
    return xp, a_array, b_array


def bitwise_left_shift(input, other):
    xp, a, b = _arrays(input, other)
    return Tensor(xp.left_shift(a, b))


def bitwise_right_shift(input, other):
    xp, a, b = _arrays(input, other)
    return Tensor(xp.right_shift(a, b))


class Frexp(ArrayFunction):
    """(m, e) with x = m 2**e;  dm/dx = 2**-e (as PyTorch: the jumps at powers of two are
    ignored), and the int32 exponent has no gradient."""
    @staticmethod
    def forward(ctx, x):
        mantissa, exponent = get_array_module(x).frexp(x)
        ctx.scale = get_array_module(x).exp2(exponent.astype(x.dtype))
        return mantissa, exponent.astype(np.int32)

    @staticmethod
    def backward(ctx, grad_mantissa, grad_exponent):
        return grad_mantissa / constant_like(ctx.scale, grad_mantissa)


def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1)."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got "
                           f"{input.dtype}")
    return Frexp.apply(input)
