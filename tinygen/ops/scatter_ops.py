"""scatter, scatter_add and scatter_reduce: src's elements sent along ``dim`` to the positions
``index`` names. Sums are IndexAdd's (so every gradient is its); prod, amax and amin are
ScatterExtreme, whose backward is PyTorch's ``scatter_reduce_backward``.

The deprecated ``scatter(..., reduce='add'|'multiply')`` computes as PyTorch does and, as
there, has no derivative: backward through it raises.
"""

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.errors import DtypeError
from tinygen.ops.compare import where
from tinygen.ops.indexing import IndexAdd, _scatter_add, check_in_range, getitem, index_put
from tinygen.ops.shape import normalize_dim, reshape
from tinygen.tensor import Tensor


def _scatter_index(input, dim, index, src, op):
    """The full index (an integer array per dim, as gather's) that sends src[i][j][k] to
    input[index[i][j][k]][j][k] for dim 0, and src cut to index's shape."""
    axis = normalize_dim(dim, input.ndim, op)
    array = index.array if isinstance(index, Tensor) else index
    if array.ndim == 0 and input.ndim == 1:     # PyTorch counts a 0-d index as 1-d here
        array = array.reshape(1)
        src = reshape(src, (1,)) if isinstance(src, Tensor) and src.ndim == 0 else src
    if array.ndim != input.ndim or array.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: index must be an integer tensor with as many dims as input "
                           f"({input.ndim}), got shape {tuple(array.shape)} and dtype "
                           f"{array.dtype}")
    xp = get_array_module(array)
    grid = list(xp.ogrid[tuple(slice(0, n) for n in array.shape)]) if array.ndim else []
    if array.ndim:                  # a 0-d input has one position, named by the empty index
        grid[axis] = array
    if isinstance(src, Tensor):
        if src.dtype != input.dtype:
            raise DtypeError("scatter(): Expected self.dtype to be equal to src.dtype")
        src = getitem(src, tuple(slice(0, n) for n in array.shape))
    check_in_range(array, input.shape[axis] if input.ndim else 1, axis, op)
    return tuple(grid), src


class ScatterWithReduce(ArrayFunction):
    """y = input with src (a tensor or a number) added ('add') or multiplied ('multiply') in at
    each position index names, repeats combining: the deprecated ``reduce=`` of scatter, which
    PyTorch gives no derivative."""
    @staticmethod
    def forward(ctx, x, src, grid, ufunc):
        xp = get_array_module(x)
        out = x.copy()
        shape = xp.broadcast_shapes(*(g.shape for g in grid)) if grid else ()
        src = xp.broadcast_to(xp.asarray(src, dtype=x.dtype), shape)
        _combine_at(xp, ufunc, out, grid, src)
        return out

    @staticmethod
    def backward(ctx, grad_y):
        raise RuntimeError("derivative for aten::scatter is not implemented (scatter with a "
                           "reduce argument; use scatter_add or scatter_reduce instead)")


def scatter(input, dim, index, src=None, value=None, reduce=None):
    """A copy of input with src[i][j][k] written to [index[i][j][k]][j][k] (dim 0); ``src`` may be
    a number (or pass ``value=``). Positions written twice keep one of the values, as PyTorch
    leaves unspecified. ``reduce='add'`` or ``'multiply'`` combines instead of writing (no
    gradient, as in PyTorch)."""
    src = value if src is None else src
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply., got {reduce!r}")
    grid, src = _scatter_index(input, dim, index, src, "scatter")
    if reduce is not None:
        ufunc = "add" if reduce == "add" else "multiply"
        return ScatterWithReduce.apply(input, src, grid, ufunc)
    return index_put(input, grid, src)


def scatter_add(input, dim, index, src):
    """input with src[i][j][k] added at [index[i][j][k]][j][k] (dim 0); repeats add up."""
    grid, src = _scatter_index(input, dim, index, src, "scatter_add")
    return input + IndexAdd.apply(src, input.shape, grid)


class ScatterExtreme(ArrayFunction):
    """y = input with each src[i][j][k] combined into [index[i][j][k]][j][k] (dim 0) by
    ``ufunc`` (maximum, minimum or multiply); input's own value is left out where something is
    scattered to, unless ``include_self``.

    For amax/amin the gradient is split evenly among the elements equal to the result there,
    input's own included (even when ``include_self=False``, whose input share is then dropped,
    exactly as PyTorch does). For prod see _prod_backward."""
    @staticmethod
    def forward(ctx, x, src, grid, ufunc, include_self):
        ctx.grid, ctx.ufunc, ctx.include_self = grid, ufunc, include_self
        xp = get_array_module(x)
        ctx.hit = hit = xp.zeros(x.shape, dtype=bool)
        hit[grid] = True
        out = x.copy()
        if not include_self:                        # start from the ufunc's identity instead
            out[hit] = _identity(ufunc, x.dtype)
        _combine_at(xp, ufunc, out, grid, src)
        ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx, grad_y):
        x, src, y = ctx.saved_tensors
        grid, hit = ctx.grid, Tensor(ctx.hit)
        if ctx.ufunc == "multiply":
            grad_x, grad_src = _prod_backward(x, src, y, grid, ctx.include_self, grad_y)
        else:
            xp = get_array_module(y.array)
            self_tie = x.array == y.array
            src_tie = src.array == getitem(y, grid).array
            ties = self_tie.astype(y.dtype)
            _scatter_add(xp, ties, grid, src_tie.astype(y.dtype))
            share = grad_y / Tensor(xp.maximum(ties, 1))
            grad_x = where(Tensor(self_tie), share, 0)
            grad_src = where(Tensor(src_tie), getitem(share, grid), 0)
        if not ctx.include_self:
            grad_x = where(hit, 0, grad_x)
        return grad_x, grad_src, None, None, None


def _prod_backward(x, src, y, grid, include_self, grad_y):
    """PyTorch's prod rule, exact with zeros: each factor's gradient is the product of the
    others. For input, that is the product taken with input's zeros set to 1; for a src element
    that is the only zero at its position, the product with it set to 1; any other src element
    gets y / src (0 when another zero is there)."""
    xp = get_array_module(y.array)
    masked_x = where(x == 0, 1, x)
    others = ScatterExtreme.apply(masked_x, src, grid, "multiply", include_self)
    grad_x = grad_y * others / masked_x
    src_zero = src.array == 0
    zeros_at = xp.zeros(x.shape, dtype=y.dtype)            # how many src zeros land at each
    _scatter_add(xp, zeros_at, grid, src_zero.astype(y.dtype))
    single = Tensor(src_zero & (zeros_at[grid] == 1))
    without = ScatterExtreme.apply(x, where(single, 1, src), grid, "multiply", include_self)
    grad_src = where(single, getitem(grad_y * without, grid),
                     getitem(grad_y * y, grid) / where(Tensor(src_zero), 1, src))
    return grad_x, grad_src


def _identity(ufunc, dtype):
    """The value that ``ufunc`` leaves the other operand unchanged with, in ``dtype``."""
    if ufunc == "multiply":
        return 1
    if dtype.kind == "f":
        return -np.inf if ufunc == "maximum" else np.inf
    if dtype.kind == "b":
        return ufunc == "minimum"
    return np.iinfo(dtype).min if ufunc == "maximum" else np.iinfo(dtype).max


def _combine_at(xp, ufunc, out, grid, src):
    """out[grid] = ufunc(out[grid], src), positions named twice combining all their values."""
    if xp is np:
        getattr(np, ufunc).at(out, grid, src)
    elif ufunc == "add":
        _scatter_add(xp, out, grid, src)
    elif ufunc == "multiply":                       # CuPy has no scatter_mul: on the host
        host = out.get()
        np.multiply.at(host, tuple(g.get() if hasattr(g, "get") else g for g in grid),
                       src.get())
        out[...] = xp.asarray(host)
    else:
        import cupyx
        getattr(cupyx, "scatter_max" if ufunc == "maximum" else "scatter_min")(out, grid, src)


_SCATTER_UFUNCS = {"amax": "maximum", "amin": "minimum", "prod": "multiply"}


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """input with each src[i][j][k] combined into [index[i][j][k]][j][k] (dim 0) by ``reduce``:
    'sum', 'prod', 'mean', 'amax' or 'amin'; input's own value takes part unless
    ``include_self=False`` (then only where nothing is scattered it stays). Integer means round
    down, as in PyTorch."""
    if reduce not in ("sum", "mean", *_SCATTER_UFUNCS):
        raise RuntimeError(f"scatter_reduce(): reduce argument must be either sum, prod, mean, "
                           f"amax or amin, got {reduce!r}")
    if input.ndim == 0 and getattr(index, "ndim", 1) == 0 and getattr(src, "ndim", 1) == 0:
        normalize_dim(dim, 0, "scatter_reduce")     # one position: done on 1-element vectors
        return reshape(scatter_reduce(reshape(input, 1), 0, reshape(index, 1), reshape(src, 1),
                                      reduce, include_self=include_self), ())
    grid, src = _scatter_index(input, dim, index, src, "scatter_reduce")
    if reduce in _SCATTER_UFUNCS:
        return ScatterExtreme.apply(input, src, grid, _SCATTER_UFUNCS[reduce], include_self)
    xp = get_array_module(input.array)
    hit = xp.zeros(input.shape, dtype=bool)
    hit[grid] = True
    base = input if include_self else index_put(input, (hit,), 0)
    total = base + IndexAdd.apply(src, input.shape, grid)
    if reduce == "sum":
        return total
    counts = xp.asarray(include_self | ~hit, dtype=input.dtype)
    _scatter_add(xp, counts, grid, xp.ones(grid[0].shape, dtype=input.dtype))
    rounding = "floor" if input.dtype.kind in "iu" else None
    return total.div(Tensor(counts), rounding_mode=rounding)
