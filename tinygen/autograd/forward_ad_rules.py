"""JVP rules of tinygen's common ops, for forward-mode AD (forward_ad.py).

A rule ``jvp(ctx, *tangents)`` gets ``ctx.inputs`` (the op's arguments), ``ctx.outputs`` (its
output Tensors) and one tangent per argument (None where an argument has none) and returns the
output tangents, in tensor ops so that they can be differentiated again. Ops that are linear in
their tensor arguments (shape ops, indexing, sums, cat, im2col) share one rule: the op itself
applied to the tangents. Products (mul, matmul, einsum, the convolution's GEMM) are linear in
each argument: the sum of the op with one argument replaced by its tangent. A convolution is
im2col, a GEMM and a transpose-plus-bias, each covered so. Ops without a rule use the
double-vjp fallback in forward_ad.py.

The rules live in this one file rather than beside each backward so that the forward-mode half
reads in one place; each is attached to its class as a ``jvp`` staticmethod (only the class
itself: a subclass may compute something else, and is registered on its own).
"""

import math

from tinygen.creation import zeros_like
from tinygen.ops.compare import Where, sign, where
from tinygen.ops import (activation, complex_ops, conv, elementwise as ew, indexing, linalg,
                         reduce, shape, special, statistics)
from tinygen.ops.elementwise import exp, log
from tinygen.tensor import Tensor


def _is_float_tensor(arg):
    return isinstance(arg, Tensor) and arg.dtype.kind in "fc"


def linear(cls, constants=()):
    """The rule of an op linear in its floating tensor arguments taken together; the arguments
    at the positions ``constants`` are operands too when they are numbers (``x + 1``), whose
    tangent is 0. Other non-tensor arguments (dims, shapes, indices) are kept."""
    def jvp(ctx, *tangents):
        args = list(ctx.inputs)
        for i, (a, t) in enumerate(zip(ctx.inputs, tangents)):
            if t is not None:
                args[i] = t
            elif _is_float_tensor(a):
                args[i] = zeros_like(a)
            elif i in constants and isinstance(a, (int, float, complex)):
                args[i] = 0
        return cls.apply(*args)
    return jvp


def multilinear(cls):
    """The rule of an op linear in each floating tensor argument (a product)."""
    def jvp(ctx, *tangents):
        total = None
        for i, t in enumerate(tangents):
            if t is not None:
                args = list(ctx.inputs)
                args[i] = t
                term = cls.apply(*args)
                total = term if total is None else total + term
        return total
    return jvp


def _sum(terms):
    present = [t for t in terms if t is not None]
    total = present[0]
    for term in present[1:]:
        total = total + term
    return total


def _div(ctx, ta, tb):
    """y = a / b:  dy = (da - y db) / b."""
    a, b = ctx.inputs
    (y,) = ctx.outputs
    return _sum([None if ta is None else ta / b, None if tb is None else -(y * tb) / b])


def _pow(ctx, ta, tb):
    """y = a ** b:  dy = b a**(b-1) da + y log(a) db."""
    a, b = ctx.inputs
    (y,) = ctx.outputs
    return _sum([None if ta is None else ta * (b * a ** (b - 1)),
                 None if tb is None else tb * (y * (log(a) if isinstance(a, Tensor)
                                                    else math.log(a)))])


def _exp(ctx, t):
    return t * ctx.outputs[0]


def _log(ctx, t):
    return t / ctx.inputs[0]


def _log1p(ctx, t):
    return t / (1 + ctx.inputs[0])


def _sqrt(ctx, t):
    return t / (2 * ctx.outputs[0])


def _sin(ctx, t):
    return t * ew.cos(ctx.inputs[0])


def _cos(ctx, t):
    return -t * ew.sin(ctx.inputs[0])


def _tanh(ctx, t):
    y = ctx.outputs[0]
    return t * (1 - y * y)


def _sigmoid(ctx, t):
    y = ctx.outputs[0]
    return t * (y * (1 - y))


def _relu(ctx, t):
    """Zero where the output is 0, as Relu's backward (also at the kink)."""
    return t * (ctx.outputs[0] > 0).to(t.dtype)


def _abs(ctx, t):
    """Complex x: d|x| = Re(conj(sgn x) dx), a real tangent for the real output."""
    x = ctx.inputs[0]
    if x.dtype.kind == "c":
        return complex_ops.real(complex_ops.conj(special.sgn(x)) * t)
    return t * sign(x)


def _gelu(ctx, t, _):
    x, approximate = ctx.inputs
    return activation.GeluBackward.apply(t, x, approximate)


def _softmax(ctx, t, _):
    """y = softmax(x):  dy = y (dx - sum(y dx))."""
    (y,), dim = ctx.outputs, ctx.inputs[1]
    return y * (t - reduce.sum(y * t, dim, keepdim=True))


def _log_softmax(ctx, t, _):
    """y = log_softmax(x):  dy = dx - sum(exp(y) dx)."""
    (y,), dim = ctx.outputs, ctx.inputs[1]
    return t - reduce.sum(exp(y) * t, dim, keepdim=True)


def _logcumsumexp(ctx, t, _):
    """y = logcumsumexp(x):  dy_i = sum_{j<=i} exp(x_j - y_i) dx_j. Real x: summed in log
    space with the op itself, positive and negative dx apart, as its backward does (the
    double-vjp trick fails there: backward reads the sign of its incoming gradient). Complex
    x: shifted by the largest real part."""
    (x, axis), (y,) = ctx.inputs, ctx.outputs
    if x.dtype.kind == "c":
        w = exp(x - reduce.amax(x.real, axis, keepdim=True).detach())
        return reduce.cumsum(w * t, axis) / reduce.cumsum(w, axis)
    total = 0
    for sign_ in (1, -1):
        part = t * sign_
        positive = Tensor(part.array > 0)
        log_part = where(positive, log(where(positive, part, 1)), float("-inf"))
        total = total + exp(statistics.LogCumSumExp.apply(x + log_part, axis) - y) * sign_
    return total


_LINEAR = [ew.Neg, reduce.Sum, reduce.Cumsum, shape.Reshape, shape.View, shape.Permute,
           shape.Expand, shape.SumTo, shape.Cat, shape.Split, shape.Unbind, indexing.GetItem,
           indexing.BasicGetItem, indexing.IndexAdd, indexing.AsStrided, conv.Im2col,
           conv.Col2im, conv.BatchMajor]
_AFFINE = {ew.Add: (0, 1), ew.Sub: (0, 1), Where: (1, 2), indexing.IndexPut: (2,),
           indexing.CopySlices: (2,)}       # the positions of operands that may be numbers
_MULTILINEAR = [ew.Mul, linalg.MatMul, linalg.Einsum, conv.GroupedGemm]
_RULES = {ew.Div: _div, ew.Pow: _pow, ew.Exp: _exp, ew.Log: _log, ew.Log1p: _log1p,
          ew.Sqrt: _sqrt, ew.Sin: _sin, ew.Cos: _cos, ew.Tanh: _tanh, ew.Sigmoid: _sigmoid,
          ew.Relu: _relu, ew.Abs: _abs, activation.Gelu: _gelu, reduce.Softmax: _softmax,
          reduce.LogSoftmax: _log_softmax,
          statistics.LogCumSumExp: _logcumsumexp}


def install():
    """Attach the rules to their op classes (once, on the first dual level)."""
    for cls in _LINEAR:
        cls.jvp = staticmethod(linear(cls))
    for cls, constants in _AFFINE.items():
        cls.jvp = staticmethod(linear(cls, constants))
    for cls in _MULTILINEAR:
        cls.jvp = staticmethod(multilinear(cls))
    for cls, rule in _RULES.items():
        cls.jvp = staticmethod(rule)
