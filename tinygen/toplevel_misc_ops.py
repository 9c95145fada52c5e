"""Small top-level ops PyTorch exports that tinygen had only elsewhere or not at all:
``tg.gradient`` (finite differences, as ``torch.gradient`` and ``numpy.gradient``), the old norm
names, ``fill``, ``empty_strided``, ``positive``, ``pdist`` and ``threshold_``.

``gradient`` is built from slices and arithmetic on tensors, so it is differentiable (twice) in
its input; coordinates given as ``spacing`` are taken as constants.
"""

import numbers

from tinygen import creation, dtypes, linalg
from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops import cat
from tinygen.ops.layer_ops import pdist, threshold_
from tinygen.ops.shape import normalize_dim
from tinygen.ops.shape_inplace import as_strided
from tinygen.tensor import Tensor

__all__ = ["empty_strided", "fill", "frobenius_norm", "gradient", "nuclear_norm", "pdist",
           "positive", "threshold_"]


def positive(input):
    """``input`` itself; bool tensors are refused, as PyTorch's unary ``+``."""
    if input.dtype == dtypes.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def nuclear_norm(input, dim=None, keepdim=False):
    """The sum of singular values (``linalg.matrix_norm(input, 'nuc', dim, keepdim)``);
    ``dim`` may be left out for a 2-D input, or given as the second argument."""
    if isinstance(dim, bool):                  # nuclear_norm(input, keepdim), PyTorch's overload
        dim, keepdim = None, dim
    if dim is None:
        if input.ndim != 2:
            raise RuntimeError(f"nuclear_norm: Expected a 2-D tensor without dim, "
                               f"got {input.ndim}-D")
        dim = (-2, -1)
    return linalg.matrix_norm(input, "nuc", dim, keepdim)


def frobenius_norm(input, dim, keepdim=False):
    """The 2-norm of ``input`` over ``dim`` (``linalg.vector_norm(input, 2, dim, keepdim)``)."""
    return linalg.vector_norm(input, 2, dim, keepdim)


class Fill(ArrayFunction):
    """y = value everywhere, in x's shape and dtype;  dy/dx = 0 (x gives only its shape, yet
    y is in the graph, as PyTorch's), dy/dvalue = 1 at every element."""
    @staticmethod
    def forward(ctx, x, value):
        return get_array_module(x).full(x.shape, value, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad_y):
        zero = Tensor(get_array_module(grad_y.array).zeros(grad_y.shape, dtype=grad_y.dtype))
        return (zero if ctx.needs_input_grad[0] else None,
                grad_y.sum() if ctx.needs_input_grad[1] else None)


def fill(input, value):
    """A new tensor shaped like ``input`` holding ``value`` (a number or a 0-dim tensor, through
    which the gradient flows); the out-of-place form of ``input.fill_(value)``."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        value = value.to(input.dtype)
    return Fill.apply(input, value)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A zero-filled tensor of shape ``size`` whose elements lie ``stride`` apart (in elements)
    in a fresh buffer (PyTorch leaves it uninitialised)."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {size} and {stride}")
    needed = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    buffer = creation.zeros(needed, dtype=dtype, device=device)
    out = as_strided(buffer, size, stride)
    return out.requires_grad_(True) if requires_grad else out


def _spacings(spacing, dims, input):
    """One entry per dim: a number h (uniform) or an array of coordinates."""
    if isinstance(spacing, (numbers.Number, Tensor)) and not (
            isinstance(spacing, Tensor) and spacing.ndim == 1):
        h = spacing.item() if isinstance(spacing, Tensor) else spacing
        return [h] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                           f"it's spacing and dim arguments to have the same length, but got a "
                           f"spacing argument of length {len(spacing)} and a dim argument of "
                           f"length {len(dims)}.")
    out = []
    for s, d in zip(spacing, dims):
        if isinstance(s, Tensor) and s.ndim == 1:
            if s.shape[0] != input.shape[d]:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same "
                                   f"device as the input and its length ({s.shape[0]}) to "
                                   f"match the size of dim {d} ({input.shape[d]})")
            out.append(s.detach().array)
        else:
            out.append(s.item() if isinstance(s, Tensor) else s)
    return out


def _along(f, d, start, stop):
    return f.narrow(d, start, stop - start)


def _uniform_diff(f, d, h, edge_order):
    """Central differences along dim ``d`` with step h; one-sided of ``edge_order`` at ends."""
    n = f.shape[d]
    inner = (_along(f, d, 2, n) - _along(f, d, 0, n - 2)) / (2 * h)
    f0, f1, fl, fm = (_along(f, d, i % n, i % n + 1) for i in (0, 1, -1, -2))
    if edge_order == 1:
        first, last = (f1 - f0) / h, (fl - fm) / h
    else:
        f2, fk = _along(f, d, 2, 3), _along(f, d, n - 3, n - 2)
        first = (-1.5 * f0 + 2 * f1 - 0.5 * f2) / h
        last = (0.5 * fk - 2 * fm + 1.5 * fl) / h
    return cat([first, inner, last], d)


def _coefficient(c, d, ndim, dtype):
    """Coordinates' coefficients as a constant tensor that broadcasts along dim ``d``."""
    shape = [1] * ndim
    shape[d] = c.shape[0]
    return Tensor(c.reshape(shape).astype(dtype))


def _coordinate_diff(f, d, x, edge_order):
    """Second-order differences on coordinates x (numpy.gradient's formulas), along dim d."""
    n, ndim, dt = f.shape[d], f.ndim, f.dtype
    x = x.astype("complex128" if x.dtype.kind == "c" else "float64")
    dx = x[1:] - x[:-1]
    h1, h2 = dx[:-1], dx[1:]
    a, b, c = -h2 / (h1 * (h1 + h2)), (h2 - h1) / (h1 * h2), h1 / (h2 * (h1 + h2))
    inner = (_coefficient(a, d, ndim, dt) * _along(f, d, 0, n - 2)
             + _coefficient(b, d, ndim, dt) * _along(f, d, 1, n - 1)
             + _coefficient(c, d, ndim, dt) * _along(f, d, 2, n))
    f0, f1, fl, fm = (_along(f, d, i % n, i % n + 1) for i in (0, 1, -1, -2))
    if edge_order == 1:
        first, last = (f1 - f0) / dx[0].item(), (fl - fm) / dx[-1].item()
    else:
        f2, fk = _along(f, d, 2, 3), _along(f, d, n - 3, n - 2)
        h1, h2 = dx[0].item(), dx[1].item()
        first = (-(2 * h1 + h2) / (h1 * (h1 + h2)) * f0 + (h1 + h2) / (h1 * h2) * f1
                 - h1 / (h2 * (h1 + h2)) * f2)
        h1, h2 = dx[-2].item(), dx[-1].item()
        last = (h2 / (h1 * (h1 + h2)) * fk - (h1 + h2) / (h1 * h2) * fm
                + (2 * h2 + h1) / (h2 * (h1 + h2)) * fl)
    return cat([first, inner, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """The derivative of ``input`` estimated along each dim in ``dim`` (all by default), as
    ``torch.gradient``: a tuple of tensors shaped like ``input``. Interior points use central
    differences (second order); the ends one-sided differences of ``edge_order`` 1 or 2.
    ``spacing`` is a number (the step of every dim; None means 1), a list of numbers (one
    step per dim) or a list of 1-D tensors (the coordinates of each dim's points, complex
    ones too)."""
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, "
                           f"but got edge_order={edge_order}.")
    dims = list(range(input.ndim)) if dim is None else (
        [dim] if isinstance(dim, int) else list(dim))
    dims = [normalize_dim(d, input.ndim, "gradient") for d in dims]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"gradient: a dim appears multiple times in the list of dims {dim}")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    if input.dtype.kind not in "fc":
        input = input.to(dtypes.get_default_dtype())
    out = []
    for d, h in zip(dims, _spacings(1 if spacing is None else spacing, dims, input)):
        if isinstance(h, numbers.Number):
            out.append(_uniform_diff(input, d, h, edge_order))
        else:
            xp = get_array_module(h)
            out.append(_coordinate_diff(input, d, xp.asarray(h), edge_order))
    return tuple(out)
