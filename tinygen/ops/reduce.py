"""Reductions and the normalising exponentials: sum, prod, cumsum, mean, var/std, amax/amin,
max/min with indices, argmax, logsumexp, softmax, log_softmax.

``dim`` is an int, a tuple of ints (negative counts from the end) or None for all dims, and
``keepdim`` keeps reduced dims with size 1, as in PyTorch. A reduction's backward broadcasts the
gradient back over the reduced dims, so it needs the gradient with those dims kept (``_unsqueeze``).
"""

from collections import namedtuple

from tinygen import dtypes, kernels
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.backend import get_array_module
from tinygen.ops.compare import maximum, minimum, where
from tinygen.ops.complex_ops import conj, real
from tinygen.ops.convert import constant_like, float_input
from tinygen.ops.elementwise import exp
from tinygen.ops.out_param import accepts_out
from tinygen.ops.shape import (
    expand, flip, normalize_dim, normalize_dims, reshape, unsqueeze)
from tinygen.tensor import Tensor

values_indices = namedtuple("values_indices", ["values", "indices"])


def _reduced_axes(dim, ndim, op):
    """The axes a reduction sums over: those in ``dim``, or all of them when ``dim`` is None or
    empty (PyTorch's ``x.sum(dim=())`` reduces everything, unlike NumPy's)."""
    if dim is not None and not isinstance(dim, int) and len(dim) == 0:
        dim = None
    return normalize_dims(dim, ndim, op)


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(ArrayFunction):
    """y = sum of x over ``axes``;  every summed element gets the gradient of its sum."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        return x.sum(axis=axes, keepdims=keepdim, dtype=acc_dtype(x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        grad = reshape(grad_y, _kept_shape(ctx.shape, ctx.axes))
        return expand(grad, ctx.shape), None, None


class Prod(ArrayFunction):
    """y = product of x over ``axis`` (kept with size 1);  dy/dx_i = product of the other x_j."""
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        ctx.save_for_backward(x)
        return x.prod(axis=axis, keepdims=True, dtype=acc_dtype(x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        if is_grad_enabled() and (x.array == 0).any():     # recorded: exact at every zero
            return grad_y * _product_of_others_pairwise(x, ctx.axis), None
        return grad_y * _product_of_others(x, ctx.axis), None


def acc_dtype(x):
    """The dtype PyTorch sums and multiplies array ``x`` in: float32 for float16, else its own
    (NumPy would widen int8, int32 and uint8 to 64 bits, where PyTorch keeps them and wraps)."""
    return dtypes.float32 if x.dtype == dtypes.float16 else x.dtype


def _product_of_others(x, axis):
    """prod_{j != i} x_j along ``axis``, for every i. y / x_i is that only when no x_j is 0, so
    zeros are replaced by 1 in ``safe``: with one zero x_k, position k gets prod(safe) and the
    others prod(safe) / x_i * x_k (value 0, but the right derivative in x_k); two or more zeros
    make every product 0."""
    is_zero = Tensor(x.array == 0)
    zeros = is_zero.array.sum(axis=axis, keepdims=True)
    safe = where(is_zero, 1, x)
    full = Prod.apply(safe, axis)
    rest = full / safe
    zero_value = sum(where(is_zero, x, 0), axis, keepdim=True)     # x_k when it is the only 0
    one_zero = where(is_zero, full, rest * zero_value)
    return where(Tensor(zeros == 0), rest, where(Tensor(zeros == 1), one_zero, 0))


def _product_of_others_pairwise(x, axis):
    """prod_{j != i} x_j as the product of row i of x with x_i set to 1: exact at any number
    of zeros and differentiable again (the masks above hide how the value depends on a second
    zero), at O(n^2) cost along ``axis``."""
    from tinygen.ops.rearrange import movedim
    xm = movedim(x, axis, -1)
    n = xm.shape[-1]
    skip_self = where(Tensor(get_array_module(x.array).eye(n, dtype=bool)), 1, unsqueeze(xm, -2))
    return movedim(reshape(Prod.apply(skip_self, xm.ndim), xm.shape), -1, axis)


class Cumsum(ArrayFunction):
    """y_i = x_0 + ... + x_i along ``axis``;  dx_i = dy_i + ... + dy_n (a reversed cumsum)."""
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        y = get_array_module(x).cumsum(x, axis=axis, dtype=acc_dtype(x))
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        return flip(Cumsum.apply(flip(grad_y, ctx.axis), ctx.axis), ctx.axis), None


class Amax(ArrayFunction):
    """y = max of x over ``axes``;  ties share the gradient equally (as PyTorch's amax)."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _extreme(ctx, x, x.max(axis=axes, keepdims=True), axes, keepdim)

    @staticmethod
    def backward(ctx, grad_y):
        (share,) = ctx.saved_tensors
        grad = reshape(grad_y, _kept_shape(ctx.shape, ctx.axes))
        return expand(grad, ctx.shape) * constant_like(share.array, grad_y), None, None


class Amin(Amax):
    """y = min of x over ``axes``;  ties share the gradient equally (as PyTorch's amin)."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _extreme(ctx, x, x.min(axis=axes, keepdims=True), axes, keepdim)


def _extreme(ctx, x, y, axes, keepdim):
    """Save each element's share of the gradient (1/count where it equals the extreme ``y``,
    else 0) and return ``y`` with or without the reduced dims."""
    ctx.shape, ctx.axes = x.shape, axes
    hits = x == y
    ctx.save_for_backward(hits / hits.sum(axis=axes, keepdims=True))
    return y if keepdim else y.reshape(tuple(n for i, n in enumerate(y.shape) if i not in axes))


class StdFromVar(ArrayFunction):
    """y = sqrt(v) for a variance v;  dy/dv = 1 / (2 y), taken as 0 where y == 0 (as PyTorch's
    std: a constant input gets gradient 0, not the nan of 0 / 0)."""
    @staticmethod
    def forward(ctx, v):
        y = get_array_module(v).sqrt(v)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        zero = Tensor(y.array == 0)
        # y itself is replaced where it is 0, so a second derivative is 0 there and not nan
        return where(zero, 0, grad_y / (2 * where(zero, 1, y)))


class Softmax(ArrayFunction):
    """y = exp(x - max) / sum(exp(x - max));  dx = y * (dy - sum(dy * y)) (saved output only).
    Both directions run the ``kernels`` softmax over ``dim``; a backward that is recorded
    (create_graph=True) uses the Tensor-op form so it can be differentiated again."""
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        y = _along(kernels.softmax, dim, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        if is_grad_enabled():
            return y * (grad_y - sum(grad_y * y, ctx.dim, keepdim=True)), None
        return Tensor._wrap(_along(kernels.softmax_backward, ctx.dim, y.array,
                                   grad_y.array)), None


class LogSoftmax(ArrayFunction):
    """y = x - logsumexp(x);  dx = dy - softmax(x) * sum(dy), with softmax(x) = exp(y).
    Runs the ``kernels`` log_softmax, as Softmax does."""
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        y = _along(kernels.log_softmax, dim, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        if is_grad_enabled():
            return grad_y - exp(y) * sum(grad_y, ctx.dim, keepdim=True), None
        return Tensor._wrap(_along(kernels.log_softmax_backward, ctx.dim, y.array,
                                   grad_y.array)), None


def _along(kernel, dim, *arrays):
    """Run a last-axis ``kernel`` along ``dim``: move ``dim`` last, run, move it back."""
    ndim = arrays[0].ndim
    if ndim == 0:                          # a scalar is a row of one
        return kernel(*(a.reshape(1) for a in arrays)).reshape(())
    if dim == ndim - 1:
        return kernel(*arrays)
    xp = get_array_module(arrays[0])
    moved = kernel(*(xp.moveaxis(a, dim, -1) for a in arrays))
    return xp.moveaxis(moved, -1, dim)


def accumulation_input(x, dtype):
    """``x`` in the dtype that sums and products accumulate in: ``dtype`` when given, else int64
    for bool and integer inputs (as in PyTorch), else its own."""
    if dtype is not None:
        return x.to(dtype)
    if x.dtype.kind in "biu":
        return x.to(dtypes.int64)
    return x


def sum(x, dim=None, keepdim=False, dtype=None):
    x = accumulation_input(x, dtype)
    return Sum.apply(x, _reduced_axes(dim, x.ndim, "sum"), keepdim)


def prod(x, dim=None, keepdim=False, dtype=None):
    """The product of all elements, or over one ``dim`` (an int, as in PyTorch)."""
    x = accumulation_input(x, dtype)
    if dim is None:
        y = Prod.apply(reshape(x, -1), 0)
        return reshape(y, (1,) * x.ndim if keepdim else ())
    axis = normalize_dim(dim, x.ndim, "prod")
    if x.ndim == 0:
        return x
    y = Prod.apply(x, axis)
    return y if keepdim else reshape(y, _drop(y.shape, axis))


def cumsum(x, dim, dtype=None):
    """Running sums along ``dim``; integer and bool inputs give int64, as in PyTorch."""
    x = accumulation_input(x, dtype)
    if x.ndim == 0:
        return x
    return Cumsum.apply(x, normalize_dim(dim, x.ndim, "cumsum"))


def mean(x, dim=None, keepdim=False, *, dtype=None):
    """The average over ``dim``; ``dtype`` casts x first, so an integer x needs it (PyTorch)."""
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype: it needs a floating point "
                           f"input, got {x.dtype}; use x.float().mean()")
    axes = _reduced_axes(dim, x.ndim, "mean")
    return _per_count(sum(x, axes, keepdim), _count(x, axes))


def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """Variance over ``dim``, divided by N - correction (default 1, Bessel's correction); of
    |x - mean|^2, so complex input gives a real variance. ``var(x, False)`` is PyTorch's legacy
    overload whose second argument is ``unbiased``."""
    dim, unbiased = legacy_unbiased(dim, unbiased)
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = _reduced_axes(dim, x.ndim, "var")
    centred = x - mean(x, axes, keepdim=True)
    # PyTorch divides by max(0, N - correction): inf (or 0 / 0 = nan) when that is 0
    n = _count(x, axes) - correction
    return sum(real(centred * conj(centred)), axes, keepdim) / (n if n > 0 else 0)


def legacy_unbiased(dim, unbiased):
    """(dim, unbiased), reading ``var(x, True)`` as PyTorch's overload var(input, unbiased)."""
    return (None, dim) if isinstance(dim, bool) else (dim, unbiased)


def _count(x, axes):
    count = 1
    for axis in axes:
        count *= x.shape[axis]
    return count


def _per_count(total, n):
    """total / n, or nan when there is nothing to average (as PyTorch returns). A division, not
    a product with 1 / n, so that a float32 mean is correctly rounded, as PyTorch's is (9 / 100
    is 0.09f; 9 * (1 / 100) is one float32 step below)."""
    return total / n if n > 0 else total * float("nan")


def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return StdFromVar.apply(var(x, dim, unbiased, keepdim, correction))


@accepts_out(overlap_ok=True)
def amax(x, dim=None, keepdim=False):
    axes = _reduced_axes(dim, x.ndim, "amax")
    _refuse_empty(x, axes, "amax")
    return Amax.apply(x, axes, keepdim)


@accepts_out(overlap_ok=True)
def amin(x, dim=None, keepdim=False):
    axes = _reduced_axes(dim, x.ndim, "amin")
    _refuse_empty(x, axes, "amin")
    return Amin.apply(x, axes, keepdim)


class EmptyReductionError(IndexError, RuntimeError):
    """Reducing a size-0 dim with max or min: PyTorch's IndexError (its RuntimeError when no dim
    is given), so either catches it."""


def _refuse_empty(x, axes, op):
    """Max and min have no identity, so reducing a size-0 dim is an error (other dims may be 0)."""
    for axis in axes:
        if x.shape[axis] == 0:
            raise EmptyReductionError(f"{op}(): expected reduction dim {axis} to have non-zero "
                                      f"size (shape {tuple(x.shape)}), since the operation has "
                                      "no identity")


def max(x, dim=None, keepdim=False):
    """``max(x)``: the largest value; ``max(x, dim)``: (values, indices) along ``dim``;
    ``max(x, other_tensor)``: the elementwise maximum."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    if dim is None:
        _refuse_keepdim_without_dim(keepdim, "max", "amax")
        return amax(x)
    return _extreme_with_indices(x, dim, keepdim, "argmax")


def min(x, dim=None, keepdim=False):
    """Like ``max``: the smallest value, (values, indices) along ``dim``, or elementwise."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    if dim is None:
        _refuse_keepdim_without_dim(keepdim, "min", "amin")
        return amin(x)
    return _extreme_with_indices(x, dim, keepdim, "argmin")


def _refuse_keepdim_without_dim(keepdim, name, whole):
    if keepdim:                              # PyTorch has no max(keepdim=True) without a dim
        raise TypeError(f"{name}(): keepdim=True needs a dim: x.{name}(dim, keepdim=True), or "
                        f"x.{whole}(keepdim=True) to keep every reduced dim")


def _extreme_with_indices(x, dim, keepdim, arg_name):
    from tinygen.ops.indexing import gather
    axis = normalize_dim(dim, x.ndim, arg_name[3:])
    if x.ndim == 0:                          # as a 1-element vector: 0-d values and indices
        return _extreme_with_indices(reshape(x, 1), 0, False, arg_name)
    _refuse_empty(x, (axis,), arg_name[3:])
    indices = getattr(get_array_module(x.array), arg_name)(x.array, axis=axis, keepdims=True)
    values = gather(x, axis, indices)        # the gradient goes to the chosen element only
    if not keepdim:
        values, indices = reshape(values, _drop(values.shape, axis)), indices.reshape(
            _drop(indices.shape, axis))
    return values_indices(values, Tensor(indices.astype(dtypes.int64, copy=False)))


def _drop(shape, axis):
    return shape[:axis] + shape[axis + 1:]


def argmax(x, dim=None, keepdim=False):
    return _arg(x, dim, keepdim, "argmax")


def argmin(x, dim=None, keepdim=False):
    return _arg(x, dim, keepdim, "argmin")


def _arg(x, dim, keepdim, name):
    axis = None if dim is None else normalize_dim(dim, x.ndim, name)
    if x.dtype == dtypes.bool:
        raise RuntimeError(f"{name}(): does not support bool input (as in PyTorch); call "
                           ".long() first")
    xp = get_array_module(x.array)
    if dim is None:
        if not x.numel():
            raise IndexError(f"{name}(): expected a dim for an empty input (shape "
                             f"{tuple(x.shape)}): there is no largest or smallest element")
        result = getattr(xp, name)(x.array.reshape(-1))
        if keepdim:
            result = result.reshape((1,) * x.ndim)
    else:
        _refuse_empty(x, (axis,) if x.ndim else (), name)
        result = getattr(xp, name)(x.array, axis=axis, keepdims=keepdim)
    return Tensor(xp.asarray(result, dtype=dtypes.int64))


def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, computed as m + log(sum(exp(x - m))) so it never
    overflows (m = the max, held constant: the total derivative with respect to m is 0). Of
    complex x, m is the max real part, so the imaginary part of the result is in (-pi, pi]."""
    x = float_input(x)
    axes = _reduced_axes(dim, x.ndim, "logsumexp")
    m = amax(real(x.detach()), axes, keepdim=True) if x.numel() else Tensor(
        get_array_module(x.array).zeros(_kept_shape(x.shape, axes), x.dtype))
    m = where(m.isfinite(), m, 0)
    out = (x - m).exp().sum(axes, keepdim=True).log() + m
    return out if keepdim else reshape(out, tuple(n for i, n in enumerate(out.shape)
                                                  if i not in axes))


def softmax(x, dim, dtype=None):
    """exp(x) / sum(exp(x)) over ``dim``; ``dtype`` casts x first (as in PyTorch)."""
    x = _softmax_input(x, dtype, "softmax")
    return Softmax.apply(x, normalize_dim(dim, x.ndim, "softmax"))


def log_softmax(x, dim, dtype=None):
    """x - logsumexp(x) over ``dim``; ``dtype`` casts x first (as in PyTorch)."""
    x = _softmax_input(x, dtype, "log_softmax")
    return LogSoftmax.apply(x, normalize_dim(dim, x.ndim, "log_softmax"))


def _softmax_input(x, dtype, op):
    """x cast to ``dtype``; integer and bool tensors are refused, as PyTorch refuses them."""
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {x.dtype} tensors (as in "
                                  f"PyTorch); pass dtype=tg.float32 or call .float() first")
    return x


def all(x, dim=None, keepdim=False):
    axes = _reduced_axes(dim, x.ndim, "all")
    return _logical_result(x, x.array.all(axis=axes, keepdims=keepdim))


def any(x, dim=None, keepdim=False):
    axes = _reduced_axes(dim, x.ndim, "any")
    return _logical_result(x, x.array.any(axis=axes, keepdims=keepdim))


def _logical_result(x, result):
    """A bool tensor, but uint8 for a uint8 input, as PyTorch's all and any return."""
    dtype = dtypes.uint8 if x.dtype == dtypes.uint8 else dtypes.bool
    return Tensor(get_array_module(x.array).asarray(result, dtype=dtype))
