"""Numerical helpers built from differentiable ops: the trapezoid rule (trapezoid, trapz,
cumulative_trapezoid), Vandermonde matrices (vander) and norm capping (renorm)."""

from tinygen.backend import get_array_module
from tinygen.ops.compare import where
from tinygen.ops.indexing import getitem
from tinygen.ops.norm import vector_norm
from tinygen.ops.reduce import cumsum, sum
from tinygen.ops.shape import cat, expand, flip, normalize_dim, reshape
from tinygen.tensor import Tensor


def _trapezoids(y, x, dx, dim, op):
    """The area of each trapezoid between neighbours along ``dim``, and that dim."""
    axis = normalize_dim(dim, y.ndim, op)
    head = (slice(None),) * axis
    later, earlier = getitem(y, head + (slice(1, None),)), getitem(y, head + (slice(None, -1),))
    if x is None:
        width = 1 if dx is None else dx
    elif x.ndim == 1:
        if x.shape[0] != y.shape[axis]:
            raise RuntimeError(f"{op}: there must be one x value ({x.shape[0]} given) per "
                               f"sample in dim {dim} of y (shape {tuple(y.shape)})")
        width = reshape(x[1:] - x[:-1], (-1,) + (1,) * (y.ndim - axis - 1))
    else:
        x_axis = normalize_dim(dim, x.ndim, op)
        x_head = (slice(None),) * x_axis
        width = getitem(x, x_head + (slice(1, None),)) - getitem(x, x_head + (slice(None, -1),))
    return (later + earlier) * width / 2, axis


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of y along ``dim`` by the trapezoid rule, at the sample points ``x`` (1-D,
    or broadcasting with y) or spaced ``dx`` apart (default 1)."""
    if x is not None and dx is not None:
        raise RuntimeError("trapezoid: received both x and dx; pass one of them")
    areas, axis = _trapezoids(y, x, dx, dim, "trapezoid")
    return sum(areas, axis)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running integral of y along ``dim`` by the trapezoid rule (one entry fewer than y
    there); x and dx as in ``trapezoid``."""
    if x is not None and dx is not None:
        raise RuntimeError("cumulative_trapezoid: received both x and dx; pass one of them")
    areas, axis = _trapezoids(y, x, dx, dim, "cumulative_trapezoid")
    return cumsum(areas, axis)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D x: column j is x ** (N - 1 - j) (x ** j when
    ``increasing``). Powers are running products, so the gradient at x = 0 is exact."""
    from tinygen.ops.statistics import cumprod
    if x.ndim != 1:
        raise RuntimeError(f"vander: x must be a one-dimensional tensor, got shape "
                           f"{tuple(x.shape)}")
    N = x.shape[0] if N is None else N
    if N < 0:
        raise RuntimeError(f"vander: N must be non-negative, got {N}")
    column = reshape(x, (-1, 1))
    ones = Tensor(get_array_module(x.array).ones((x.shape[0], 1), dtype=x.dtype))
    powers = cumprod(cat([ones, expand(column, (x.shape[0], max(N - 1, 0)))], 1), 1)
    powers = getitem(powers, (slice(None), slice(0, N)))
    return powers if increasing else flip(powers, 1)


def renorm(input, p, dim, maxnorm):
    """input with each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to norm
    maxnorm (PyTorch's 1e-7 guards the division)."""
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           f"dimensions")
    axis = normalize_dim(dim, input.ndim, "renorm")
    others = tuple(d for d in range(input.ndim) if d != axis)
    norms = vector_norm(input, p, dim=others, keepdim=True)
    return input * where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
