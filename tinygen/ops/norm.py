"""Vector norms (``tg.linalg.vector_norm``, ``tg.norm``) with PyTorch's gradients at zero.

The 2-norm sqrt(sum x^2) built from sqrt and sum would have the gradient x / ||x|| = 0 / 0 = nan
at x = 0. PyTorch returns 0 there (a subgradient), and a WGAN-GP penalty ||grad D|| - 1 meets
such points, so the p-norms are one op whose backward masks the rows whose norm is 0.
"""

import math

import numpy as np

from tinygen import dtypes
from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.compare import sign, where
from tinygen.ops.elementwise import abs
from tinygen.ops.reduce import _reduced_axes, amax, amin
from tinygen.ops.shape import reshape
from tinygen.tensor import Tensor


class PNorm(ArrayFunction):
    """y = (sum |x|^p)^(1/p) over ``axes`` (kept with size 1), for finite p;
    dy/dx = sign(x) |x|^(p-1) / y^(p-1) (= x / y for p = 2), and 0 where y = 0 (PyTorch's
    subgradient). At x = 0 the factor |x|^(p-1) (infinite for p < 1) is taken as 0 (and for
    p < 0 any zero makes y = 0). For p = 0, y counts the non-zero elements and dy/dx = 0 (a
    step function; PyTorch still puts y in the graph)."""
    @staticmethod
    def forward(ctx, x, p, axes):
        ctx.p = p
        if p == 0:
            ctx.save_for_backward(x)
            return (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        wide = x.astype(np.float32) if x.dtype == np.float16 else x   # |x|^p overflows half
        if p == 2:
            y = (wide * wide).sum(axis=axes, keepdims=True) ** 0.5
        else:
            with np.errstate(divide="ignore"):      # |0|^p = inf for p < 0: the norm is 0
                y = (get_array_module(x).abs(wide) ** p).sum(axis=axes, keepdims=True) ** (1 / p)
        y = y.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        p = ctx.p
        if p == 0:
            (x,) = ctx.saved_tensors
            return Tensor(get_array_module(x.array).zeros(x.shape, x.dtype)), None, None
        x, y = ctx.saved_tensors
        zero = y == 0
        safe_y = where(zero, 1, y)
        scale = where(zero, 0, grad_y / (safe_y if p == 2 else safe_y ** (p - 1)))
        if p == 2:
            return x * scale, None, None
        x_part = sign(x) * where(x == 0, 1, abs(x)) ** (p - 1)     # sign(0) = 0 does the rest
        return x_part * scale, None, None


def vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None):
    """The ``ord``-norm of x over ``dim`` (all dims when None), as ``torch.linalg.vector_norm``:
    (sum |x|^ord)^(1/ord) for other ord (also negative), max |x| for inf, min |x| for -inf, the
    number of non-zero elements for 0 (with a zero gradient). A complex x gives the (real) norm
    of |x|, so its gradient follows PyTorch's convention for |z|."""
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind == "c":
        x = abs(x)
    if x.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: expected a floating point input, got "
                           f"{x.dtype}; convert with .float() first")
    axes = _reduced_axes(dim, x.ndim, "linalg.vector_norm")
    ord = float(ord)
    if ord == math.inf:
        return amax(abs(x), axes, keepdim)          # ties share the gradient, as in PyTorch
    if ord == -math.inf:
        return amin(abs(x), axes, keepdim)
    y = PNorm.apply(x, ord, axes)             # reduced dims kept, so backward broadcasts
    return y if keepdim else reshape(y, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: the Frobenius (2-)norm by default, or the vector ``p``-norm, over ``dim``
    (all elements when None); other string p ('nuc') are matrix norms over the 2 dims ``dim``
    (both dims of a matrix when None)."""
    if dtype is not None:
        input = input.to(dtypes.as_dtype(dtype))
    dims = (dim,) if isinstance(dim, int) else dim
    if p == "fro" and (dims is None or len(dims) <= 2) or p is None:
        p = 2
    if isinstance(p, str):
        from tinygen.ops.linalg_norms import matrix_norm     # it builds on this module
        return matrix_norm(input, p, tuple(range(input.ndim)) if dims is None else dims,
                           keepdim)
    return vector_norm(input, p, dim, keepdim)
