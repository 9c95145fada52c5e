"""Dense layers and shape helpers: ``Linear`` (``F.linear``), ``Identity``, ``Flatten``,
``Unflatten``."""

import math

import numpy as np

from tinygen import creation
from tinygen.autograd.function import ArrayFunction
from tinygen.nn import init
from tinygen.nn.module import Module, Parameter
from tinygen.ops.shape import normalize_dim


class LinearFunction(ArrayFunction):
    """y = x @ W^T + b for x of shape (*, in), W (out, in), b (out,) or None; y is (*, out).

    With x and dy read as matrices of rows, (N, in) and (N, out): dx = dy @ W, dW = dy^T @ x,
    db = sum of dy over rows. One node instead of five (reshape, transpose, matmul, add,
    reshape): the leading dims fold into one GEMM at the array level, and the transposed weight
    is a BLAS flag, never a copy.
    """
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        y = _affine_rows(x.reshape(_rows_of(x), x.shape[-1]), weight, bias)
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved_tensors
        grad_rows = grad_y if grad_y.ndim == 2 else grad_y.reshape(_rows_of(grad_y),
                                                                  grad_y.shape[-1])
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_rows @ weight
            grad_x = grad_x if x.ndim == 2 else grad_x.reshape(x.shape)
        if ctx.needs_input_grad[1]:
            x_rows = x if x.ndim == 2 else x.reshape(_rows_of(x), x.shape[-1])
            grad_weight = grad_rows.mT @ x_rows
        if ctx.needs_input_grad[2]:
            grad_bias = grad_rows.sum(0)
        return grad_x, grad_weight, grad_bias

    @staticmethod
    def jvp(ctx, tangent_x, tangent_weight, tangent_bias):
        """Forward mode (autograd/forward_ad.py): dy = dx @ W^T + x @ dW^T + db."""
        x, weight, _ = ctx.inputs
        (y,) = ctx.outputs
        tangent_y = creation.zeros_like(y)
        if tangent_x is not None:
            tangent_y = tangent_y + LinearFunction.apply(tangent_x, weight, None)
        if tangent_weight is not None:
            tangent_y = tangent_y + LinearFunction.apply(x, tangent_weight, None)
        return tangent_y if tangent_bias is None else tangent_y + tangent_bias


FEW_ROWS = 128                   # batches up to this many rows take the weight-first product
WEIGHT_FIRST_MIN_SIZE = 1 << 17  # ... when the weight has at least this many elements


def _affine_rows(x_rows, weight, bias):
    """x_rows @ W^T + b as a C-contiguous (rows, out) array.

    NumPy's OpenBLAS takes x @ W^T slowly when x has few rows: for a 1024x1024 weight on
    2 threads, 0.42 ms at 2 rows, 0.53 at 16 and 1.9 at 128, where the same product taken
    weight-first, (W @ x^T)^T, took 0.14, 0.25 and 1.65 ms (2-3x, 2x, 1.15x faster; AMD EPYC,
    NumPy 2.4 with OpenBLAS 0.3.31). From ~256 rows on, and for small weights, the first form
    is as fast or faster. So a CPU batch of 2 to FEW_ROWS rows goes weight-first, and the
    transposed result is copied into row order by the pass that adds the bias. (One row is a
    matrix-vector product either way.)
    """
    rows = x_rows.shape[0]
    if (not isinstance(x_rows, np.ndarray) or not 1 < rows <= FEW_ROWS
            or weight.size < WEIGHT_FIRST_MIN_SIZE):
        y = x_rows @ weight.T
        if bias is not None:
            y += bias
        return y
    y_t = weight @ x_rows.T                                             # (out, rows)
    y = np.empty(y_t.shape[::-1], y_t.dtype)
    if bias is None:
        y[...] = y_t.T
    else:
        np.add(y_t.T, bias, out=y)
    return y


def _rows_of(x):
    """How many rows (*, features) has: the product of its leading dims (also when a dim is 0,
    where reshape(-1, 0) cannot infer it)."""
    return math.prod(x.shape[:-1])


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias, for input of shape (*, in_features), weight
    (out_features, in_features) and bias (out_features,) or None; y has shape (*, out_features).
    """
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                           f"{tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} does not end in "
                           f"in_features={weight.shape[1]} of the weight of shape "
                           f"{tuple(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"linear: bias of shape {tuple(bias.shape)} does not match "
                           f"out_features={weight.shape[0]}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if t.device != input.device:
            raise RuntimeError(f"linear: input is on {input.device} but {name} is on "
                               f"{t.device}; move them to one device with .to()")
        if t.dtype != input.dtype:
            raise RuntimeError(f"linear: input has dtype {input.dtype} but {name} has "
                               f"{t.dtype}; cast one of them (e.g. input.to({name}.dtype))")
    return LinearFunction.apply(input, weight, bias)


class Linear(Module):
    """y = x W^T + b. weight (out_features, in_features) and bias (out_features,) are drawn, as
    in PyTorch, from U(-1/sqrt(in_features), 1/sqrt(in_features)) (for the weight: kaiming_uniform_
    with a = sqrt(5), which gives that bound)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in_features, device=device,
                                               dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_weight_and_bias_(self.weight, self.bias)

    def forward(self, input):
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input; takes (and ignores) any constructor arguments, as in PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flattens dims ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) -> (N, C*H*W)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim ``dim`` into ``unflattened_size``: Unflatten(1, (C, H, W)) undoes Flatten()."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        dim = normalize_dim(self.dim, input.ndim, "Unflatten")
        size = self.unflattened_size
        known = math.prod(n for n in size if n != -1)
        if size.count(-1) > 1 or (-1 not in size and known != input.shape[dim]) or (
                -1 in size and (known == 0 or input.shape[dim] % known)):
            raise RuntimeError(f"Unflatten: unflattened_size {size} does not match dim {dim} "
                               f"of size {input.shape[dim]} in input of shape "
                               f"{tuple(input.shape)}")
        return input.reshape(*input.shape[:dim], *size, *input.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
