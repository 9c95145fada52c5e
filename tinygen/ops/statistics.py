"""Statistics and running reductions: var_mean, std_mean, aminmax, median, kthvalue, quantile,
mode, msort, cov, corrcoef, cumprod, cummax, cummin, logcumsumexp.

Order statistics find their positions on the raw array (no gradient) and read the values with
``gather``, so each value's gradient goes back to the element it came from, as in PyTorch.
"""

from collections import namedtuple

import numpy as np

from tinygen import dtypes
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.backend import get_array_module
from tinygen.ops.compare import where
from tinygen.ops.complex_ops import complex, conj, imag, real
from tinygen.ops.convert import float_input
from tinygen.ops.elementwise import exp, log
from tinygen.ops.indexing import gather
from tinygen.ops.out_param import accepts_out
from tinygen.ops.reduce import (
    acc_dtype, accumulation_input, amax, amin, cumsum, legacy_unbiased, mean, std, sum,
    values_indices, var)
from tinygen.ops.shape import flip, normalize_dim, reshape, squeeze, unsqueeze
from tinygen.tensor import Tensor

min_max = namedtuple("min_max", ["min", "max"])


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``; var divides by N - correction (default 1)."""
    dim, unbiased = legacy_unbiased(dim, unbiased)
    return var(input, dim, unbiased, keepdim, correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``; std divides by N - correction (default 1)."""
    dim, unbiased = legacy_unbiased(dim, unbiased)
    return std(input, dim, unbiased, keepdim, correction), mean(input, dim, keepdim)


@accepts_out()
def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over ``dim`` (all dims when None)."""
    return min_max(amin(input, dim, keepdim), amax(input, dim, keepdim))


def _kth_smallest(x, k, dim, keepdim, op):
    """(values, indices) of the k-th smallest entry (k from 0) along ``dim``; a row holding NaN
    gives NaN and the NaN's index, as PyTorch's median."""
    if x.ndim == 0:
        return _kth_smallest(reshape(x, 1), k, 0, False, op)
    axis = normalize_dim(dim, x.ndim, op)
    n = x.shape[axis]
    if not 0 <= k < n:
        raise IndexError(f"{op}(): selected index {k} is out of range for dim {dim} of size "
                         f"{n} (shape {tuple(x.shape)})")
    xp = get_array_module(x.array)
    order = xp.argsort(x.array, axis=axis, kind="stable")       # NaN sorts last
    indices = xp.take(order, [k], axis=axis)
    if x.dtype.kind == "f":
        nan = xp.isnan(x.array)
        has_nan = nan.any(axis=axis, keepdims=True)
        indices = xp.where(has_nan, xp.argmax(nan, axis=axis, keepdims=True), indices)
    indices = indices.astype(dtypes.int64, copy=False)
    values = gather(x, axis, indices)
    if not keepdim:
        values, indices = squeeze(values, axis), indices.squeeze(axis)
    return values_indices(values, Tensor(indices))


def _refuse_bool(x, op):
    if x.dtype.kind == "b":                     # NotImplementedError, as PyTorch
        raise NotImplementedError(f"{op}(): not implemented for bool input; call .long() first")


@accepts_out()
def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the k-th smallest entry (k counts from 1) along ``dim``."""
    n = input.shape[normalize_dim(dim, input.ndim, "kthvalue")] if input.ndim else 1
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {dim} to have non-zero size.")
    if not 1 <= k <= n:                             # RuntimeError, as PyTorch
        raise RuntimeError(f"kthvalue(): selected number k ({k}) out of range for dim {dim} of "
                           f"size {n} (shape {tuple(input.shape)})")
    if input.ndim:                               # PyTorch returns a 0-d bool as it is
        _refuse_bool(input, "kthvalue")
    return _kth_smallest(input, k - 1, dim, keepdim, "kthvalue")


def median(input, dim=None, keepdim=False):
    """The lower median (of an even count, the smaller middle value, as PyTorch): of all
    elements when ``dim`` is None (NaN when there are none), else (values, indices) along
    ``dim``. NaN propagates."""
    if dim is None:
        flat = reshape(input, -1)
        if not flat.shape[0] and input.dtype.kind == "f":
            return Tensor(get_array_module(input.array).asarray(float("nan"), input.dtype))
        _refuse_bool(input, "median")
        return _kth_smallest(flat, (flat.shape[0] - 1) // 2, 0, False, "median").values
    n = input.shape[normalize_dim(dim, input.ndim, "median")] if input.ndim else 1
    if n:                                        # an empty dim is an IndexError first
        _refuse_bool(input, "median")
    return _kth_smallest(input, (n - 1) // 2, dim, keepdim, "median")


# The weight of the upper neighbour, from the fraction of the way to it and the lower index
# (nearest rounds half to even, as PyTorch and NumPy).
_QUANTILE_WEIGHTS = {
    "linear": lambda frac, low: frac,
    "lower": lambda frac, low: 0 * frac,
    "higher": lambda frac, low: (frac > 0) * 1.0,
    "nearest": lambda frac, low: ((frac > 0.5) | ((frac == 0.5) & (low % 2 == 1))) * 1.0,
    "midpoint": lambda frac, low: (frac > 0) * 0.5,
}


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles (q in [0, 1], a number or a 1-D tensor) over ``dim`` (all elements
    when None): at position q (n - 1) of the sorted values, between the two neighbours as
    ``interpolation`` says. A 1-D q puts its dim first in the result, as in PyTorch. Rows with
    NaN give NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, skip_nan=False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` of each slice's non-NaN values (NaN when all are NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, skip_nan=True)


def _quantile(op, input, q, dim, keepdim, interpolation, skip_nan):
    """Both quantiles: sort (NaN goes last), then interpolate between the values at positions
    floor and ceil of q (n - 1), n counting the values (the non-NaN ones with ``skip_nan``).
    Built from sort and gather, so it is differentiable."""
    if interpolation not in _QUANTILE_WEIGHTS:
        raise ValueError(f"{op}() interpolation must be one of "
                         f"{', '.join(_QUANTILE_WEIGHTS)}, got {interpolation!r}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, "
                           f"got {input.dtype}")
    xp = get_array_module(input.array)
    scalar_q = not isinstance(q, Tensor)
    qs = xp.asarray([q] if scalar_q else q.array, dtype=input.dtype).reshape(-1)
    if qs.size and bool(((qs < 0) | (qs > 1)).any()):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    axis = None if dim is None else normalize_dim(dim, input.ndim, op)
    if input.ndim == 0:                      # one value: its quantiles are itself, shape ()
        return _quantile(op, reshape(input, 1), q, None, False, interpolation, skip_nan)
    x = reshape(input, -1) if axis is None else input.movedim(axis, -1)
    if x.shape[-1] == 0:
        raise IndexError(f"{op}() input tensor must be non-empty (shape {input.shape})")
    sorted_x = gather(x, -1, xp.argsort(x.array, axis=-1, kind="stable"))
    nan = xp.isnan(x.array)
    count = ((~nan).sum(axis=-1, keepdims=True) if skip_nan
             else xp.full(x.shape[:-1] + (1,), x.shape[-1]))
    position = xp.maximum(count - 1, 0) * qs                                  # (..., Q)
    low = xp.floor(position).astype(dtypes.int64)
    high = xp.minimum(low + 1, xp.maximum(count - 1, 0))
    weight = Tensor(_QUANTILE_WEIGHTS[interpolation](position - low, low).astype(input.dtype))
    low_v, high_v = gather(sorted_x, -1, low), gather(sorted_x, -1, high)
    undefined = count == 0 if skip_nan else nan.any(axis=-1, keepdims=True)
    out = where(Tensor(xp.broadcast_to(undefined, low.shape)), float("nan"),
                low_v + weight * (high_v - low_v))
    out = out.movedim(-1, 0)                                                 # (Q, ...)
    if keepdim:
        out = (reshape(out, (qs.size,) + (1,) * input.ndim) if axis is None
               else unsqueeze(out, axis + 1))
    return squeeze(out, 0) if scalar_q else out


class Cumprod(ArrayFunction):
    """y_i = x_0 x_1 ... x_i along ``axis``;  dx_i = sum_{j>=i} dy_j y_j / x_i when no x is 0.
    With zeros, only the first zero z of a row matters: before it the formula holds with the
    sum cut at z; at z, dx_z = sum_{j>=z} dy_j y'_j, where y' is the cumprod with x_z set to 1;
    after it dx = 0 (every product there holds x_z). Those masks hide how dx depends on the
    zeros, so a recorded backward (create_graph=True) of an input with zeros takes the exact
    O(n^2) form instead (``_cumprod_grad_pairwise``)."""
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        y = get_array_module(x).cumprod(x, axis=axis, dtype=acc_dtype(x)).astype(x.dtype,
                                                                                 copy=False)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved_tensors
        axis, xp = ctx.axis, get_array_module(x.array)
        is_zero = x.array == 0
        if is_grad_enabled() and is_zero.any():
            return _cumprod_grad_pairwise(x, grad_y, axis), None
        zeros_so_far = xp.cumsum(is_zero, axis=axis)
        before = Tensor(zeros_so_far == 0)
        reverse_sum = flip(cumsum(flip(where(before, grad_y * y, 0), axis), axis), axis)
        grad_x = where(before, reverse_sum / where(before, x, 1), 0)
        if not is_zero.any():
            return grad_x, None
        first_zero = Tensor((zeros_so_far == 1) & is_zero)
        y_skip = Cumprod.apply(where(first_zero, 1, x), axis)
        at_zero = sum(where(before, 0, grad_y * y_skip), axis, keepdim=True)
        return where(first_zero, at_zero, grad_x), None


def _cumprod_grad_pairwise(x, grad_y, axis):
    """dx_i = sum_{j>=i} dy_j P_ij with P_ij = prod_{k<=j, k!=i} x_k, the cumprod of x with x_i
    set to 1: exact at zeros and differentiable again, at O(n^2) cost along ``axis``."""
    from tinygen.ops.rearrange import movedim
    xm, gm = movedim(x, axis, -1), movedim(grad_y, axis, -1)
    n = xm.shape[-1]
    xp = get_array_module(x.array)
    skip_self = where(Tensor(xp.eye(n, dtype=bool)), 1, unsqueeze(xm, -2))    # row i, column k
    later = Tensor(xp.triu(xp.ones((n, n), dtype=bool)))                      # j >= i
    pairs = where(later, Cumprod.apply(skip_self, skip_self.ndim - 1) * unsqueeze(gm, -2), 0)
    return movedim(sum(pairs, -1), -1, axis)


def cumprod(input, dim, dtype=None):
    """Running products along ``dim``; integer and bool inputs give int64, as in PyTorch."""
    input = accumulation_input(input, dtype)
    if input.ndim == 0:
        return input
    return Cumprod.apply(input, normalize_dim(dim, input.ndim, "cumprod"))


def _running_extreme(x, dim, ufunc, op):
    """(values, indices) of the running max or min along ``dim``. Ties and NaN take the latest
    index, as PyTorch (it compares with >= and lets NaN through)."""
    if x.ndim == 0:
        return values_indices(x, Tensor(get_array_module(x.array).zeros((), dtypes.int64)))
    axis = normalize_dim(dim, x.ndim, op)
    xp = get_array_module(x.array)
    running = getattr(xp, ufunc).accumulate(x.array, axis=axis)
    hit = (x.array == running) | (xp.isnan(x.array) if x.dtype.kind == "f" else False)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    positions = xp.arange(x.shape[axis], dtype=dtypes.int64).reshape(shape)
    indices = xp.maximum.accumulate(xp.where(hit, positions, 0), axis=axis)
    return values_indices(gather(x, axis, indices), Tensor(indices))


def cummax(input, dim):
    return _running_extreme(input, dim, "maximum", "cummax")


def cummin(input, dim):
    return _running_extreme(input, dim, "minimum", "cummin")


class LogCumSumExp(ArrayFunction):
    """y_i = log(exp(x_0) + ... + exp(x_i)) along ``axis``;
    dx_i = sum_{j>=i} dy_j exp(x_i - y_j) = exp(x_i) * (reversed cumsum of dy exp(-y))_i. That
    sum is taken in log space, positive and negative dy apart (PyTorch's formula), with this op
    itself, so it neither overflows nor underflows and can be differentiated again. Complex x:
    dx_i = exp(conj x_i) * exp(reversed logcumsumexp of log(dy) - conj y)_i, no split needed."""
    supports_complex = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        xp = get_array_module(x)
        if x.dtype.kind == "c":
            y = xp.moveaxis(x.copy(), axis, 0)
            for i in range(1, y.shape[0]):
                y[i] = _log_add_exp_complex(xp, y[i - 1], y[i])
            y = xp.moveaxis(y, 0, axis)
        else:
            y = xp.logaddexp.accumulate(x, axis=axis)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved_tensors
        axis = ctx.axis
        if x.dtype.kind == "c":
            log_part = log(grad_y) - conj(y)
            reverse = flip(LogCumSumExp.apply(flip(log_part, axis), axis), axis)
            return exp(conj(x) + reverse), None
        grad_x = 0
        for sign in (1, -1):
            part = grad_y * sign
            positive = Tensor(part.array > 0)
            log_part = where(positive, log(where(positive, part, 1)) - y, float("-inf"))
            reverse = flip(LogCumSumExp.apply(flip(log_part, axis), axis), axis)
            grad_x = grad_x + exp(x + reverse) * sign
        return grad_x, None


def _log_add_exp_complex(xp, a, b):
    """log(exp(a) + exp(b)) of complex arrays, shifted by the one of larger real part (as
    PyTorch's); two infinite real parts of one sign give that one."""
    swap = a.real > b.real
    low, high = xp.where(swap, b, a), xp.where(swap, a, b)
    with np.errstate(invalid="ignore"):
        out = xp.log1p(xp.exp(low - high)) + high
    same_inf = xp.isinf(low.real) & (low.real == high.real)
    return xp.where(same_inf, low, out)


def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along ``dim``, without overflow."""
    input = float_input(input)
    if input.ndim == 0:
        return input
    return LogCumSumExp.apply(input, normalize_dim(dim, input.ndim, "logcumsumexp"))



def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along ``dim`` (of equally frequent ones, the
    smallest) and the index of its last occurrence, as PyTorch."""
    if input.ndim == 0:
        return values_indices(input, Tensor(get_array_module(input.array).zeros((), dtypes.int64)))
    axis = normalize_dim(dim, input.ndim, "mode")
    if input.shape[axis] == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size (shape "
                         f"{tuple(input.shape)})")
    xp = get_array_module(input.array)
    x = xp.moveaxis(input.array, axis, -1)
    order = xp.argsort(x, axis=-1, kind="stable")
    ordered = xp.take_along_axis(x, order, axis=-1)
    n = x.shape[-1]
    positions = xp.broadcast_to(xp.arange(n), x.shape)
    new_run = xp.concatenate([xp.ones(x.shape[:-1] + (1,), dtype=bool),
                              ordered[..., 1:] != ordered[..., :-1]], axis=-1)
    run_start = xp.maximum.accumulate(xp.where(new_run, positions, 0), axis=-1)
    run_end = xp.flip(xp.minimum.accumulate(                      # last position of each run
        xp.flip(xp.where(xp.roll(new_run, -1, axis=-1), positions, n - 1), -1), axis=-1), -1)
    best = xp.argmax(run_end - run_start, axis=-1)[..., None]     # first: the smallest value
    last = xp.take_along_axis(order, xp.take_along_axis(run_end, best, axis=-1), axis=-1)
    # the run's elements are in stable (original) order, so its end is the last occurrence
    indices = xp.moveaxis(last.astype(dtypes.int64), -1, axis)
    values = gather(input, axis, indices)
    if not keepdim:
        values, indices = squeeze(values, axis), indices.squeeze(axis)
    return values_indices(values, Tensor(indices))


def msort(input):
    """input sorted along dim 0 (the values of ``sort(input, dim=0)``)."""
    from tinygen.ops.sort import sort
    return sort(input, dim=0).values


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in input's rows (observations in its columns;
    a 1-D input or a single row is one variable, giving a 0-d variance, as PyTorch), with
    integer frequency weights ``fweights`` and observation weights ``aweights`` as NumPy's cov
    (complex rows: conjugated in the product, as both)."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    x = reshape(input, (1, -1)) if input.ndim < 2 else input
    if aweights is not None:        # the weights take part in the dtype, as in PyTorch
        x = x.to(dtypes.promote_types(x.dtype, aweights.dtype))
    x = float_input(x)
    if fweights is not None and fweights.dtype.kind not in "iu":
        raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights "
                           f"with {fweights.dtype} dtype")
    weight = None
    for name, w in (("fweights", fweights), ("aweights", aweights)):
        if w is not None:
            if w.ndim != 1 or w.shape[0] != x.shape[1]:
                raise RuntimeError(f"cov(): weights must be 1-D with one entry per observation "
                                   f"({x.shape[1]}), got shape {tuple(w.shape)}")
            if bool((w < 0).any()):
                raise RuntimeError(f"cov(): {name} cannot be negative")
            w = w.to(x.dtype)
            weight = w if weight is None else weight * w
    if weight is None:
        total = x.shape[1]
        average = mean(x, 1, keepdim=True)
        scale = total - correction
    else:
        total = sum(weight)
        average = sum(x * weight, 1, keepdim=True) / total
        scale = total - (correction if aweights is None
                         else correction * sum(weight * aweights.to(x.dtype)) / total)
    centered = x - average
    weighted = centered if weight is None else centered * weight
    scale = scale.clamp(min=0) if isinstance(scale, Tensor) else max(scale, 0)   # as PyTorch
    out = (weighted @ conj(centered).T) / scale
    return reshape(out, ()) if x.shape[0] == 1 else out


def corrcoef(input):
    """Pearson's correlation coefficients of the variables in input's rows, clipped to
    [-1, 1] as NumPy's corrcoef (complex ones: their real and imaginary parts, as PyTorch)."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = real(c.diagonal()).sqrt()
    c = c / unsqueeze(d, 1) / unsqueeze(d, 0)
    if c.dtype.kind == "c":
        return complex(real(c).clamp(-1, 1), imag(c).clamp(-1, 1))
    return c.clamp(-1, 1)
