"""The Tensor methods and operators that are ops: attached from the tables below, so that
``x.exp()`` is ``tg.exp(x)`` and ``x + y`` is ``tg.add(x, y)`` with nothing written twice.
(tensor.py imports this module once ``Tensor`` and ``ops`` exist.)
"""

from tinygen import ops
from tinygen.autograd import inplace
from tinygen.tensor import Tensor

# Every op whose first argument is a tensor is also a method: ``x.exp()`` is ``tg.exp(x)`` and
# ``x.sum(1, keepdim=True)`` is ``tg.sum(x, 1, keepdim=True)`` (the function, same signature).
_OP_METHODS = (
    "add", "sub", "mul", "div", "pow", "matmul", "exp", "log", "log1p", "sqrt", "rsqrt", "sin",
    "cos", "tanh", "sigmoid", "relu", "abs", "neg", "square", "sign", "clamp", "maximum",
    "minimum", "masked_fill", "isnan", "isfinite", "eq", "sum", "mean", "var", "std", "max", "min",
    "amax", "amin", "argmax", "argmin", "logsumexp", "softmax", "log_softmax", "all", "any",
    "reshape", "view", "flatten", "permute", "transpose", "expand", "expand_as", "squeeze",
    "unsqueeze", "split", "chunk", "flip", "gather", "clip", "clone", "norm", "prod", "cumsum",
    "mm", "bmm", "dot", "outer", "erf", "reciprocal", "floor", "ceil", "round", "trunc",
    "clamp_min", "clamp_max", "lerp", "tril", "triu", "repeat", "tile", "repeat_interleave",
    "index_select", "unbind", "roll", "topk", "sort", "argsort", "multinomial", "bernoulli",
    "allclose", "equal", "ne", "lt", "le", "gt", "ge", "isinf", "logical_not", "logical_and",
    "logical_or", "logical_xor", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "remainder", "fmod", "floor_divide", "nonzero",
    "expm1", "exp2", "log2", "log10", "logit", "atan2", "hypot", "logaddexp", "logaddexp2",
    "xlogy", "sgn", "frac", "nan_to_num", "isclose", "heaviside", "sinc", "float_power",
    "aminmax", "cummax", "cummin", "cumprod", "kthvalue", "logcumsumexp", "median", "quantile",
    "diag", "diagonal", "diff", "masked_select", "moveaxis", "movedim", "narrow", "scatter",
    "scatter_add", "swapaxes", "swapdims", "take_along_dim", "tensor_split", "trace",
    "unflatten", "kron", "cross", "bincount", "unique",
    "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "deg2rad",
    "rad2deg", "erfc", "copysign", "ldexp", "fmax", "fmin", "hardshrink", "signbit", "isneginf",
    "isposinf", "isreal", "gcd", "lcm", "nextafter", "count_nonzero", "nansum", "nanmean",
    "nanmedian", "absolute", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "divide", "fix", "greater", "greater_equal", "less", "less_equal", "multiply",
    "negative", "not_equal", "subtract", "true_divide")
_OP_METHODS += (  # fused products, writes along an index, shape helpers
    "addmm", "addmv", "addbmm", "baddbmm", "addr", "addcmul", "addcdiv", "mv", "ger", "inner",
    "vdot", "dist", "index_add", "index_copy", "index_fill", "index_put", "take", "put",
    "select", "select_scatter", "slice_scatter", "diagonal_scatter", "scatter_reduce",
    "argwhere", "masked_scatter", "unfold", "hsplit", "vsplit", "dsplit", "split_with_sizes",
    "fliplr", "flipud", "rot90", "ravel", "diag_embed", "diagflat", "mode", "msort", "histc",
    "histogram", "unique_consecutive", "renorm", "cov", "corrcoef")
_OP_METHODS += (  # linear algebra (ops/linalg_aliases.py)
    "det", "logdet", "slogdet", "inverse", "pinverse", "matrix_power", "matrix_exp",
    "cholesky", "cholesky_solve", "cholesky_inverse", "qr", "svd")
_OP_METHODS += ("lu", "lu_solve")  # LU (ops/linalg_lu.py)
_OP_METHODS += ("geqrf", "orgqr", "ormqr")  # Householder (ops/linalg_householder.py)
for _name in _OP_METHODS:
    setattr(Tensor, _name, getattr(ops, _name))


def _in_place(name):
    """``x.<name>_(...)``: ``tg.<name>(x, ...)`` written into x (see autograd/inplace.py)."""
    op = getattr(ops, name)

    def method(self, *args, **kwargs):
        return inplace.modify(self, f"{name}_", lambda t, *a: op(t, *a, **kwargs), *args)
    method.__name__ = f"{name}_"
    return method


# ``x.exp_()`` for every op above that PyTorch also has in place (add_, clamp_, ... with their
# own handling are written in tensor.py).
_IN_PLACE_METHODS = (
    "scatter", "scatter_add",
    "abs", "absolute", "neg", "negative", "reciprocal", "square", "sign", "sgn", "relu",
    "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "sigmoid", "logit",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
    "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "deg2rad",
    "rad2deg", "erf", "erfc", "sinc", "floor", "ceil", "round", "trunc", "fix", "frac",
    "clip", "clamp_min", "clamp_max", "lerp", "nan_to_num", "cumsum", "cumprod", "tril", "triu",
    "divide", "multiply", "subtract", "true_divide", "fmod", "remainder", "floor_divide",
    "atan2", "arctan2", "hypot", "xlogy", "copysign", "ldexp", "heaviside", "gcd", "lcm",
    "nextafter", "eq", "ne", "lt", "le", "gt", "ge", "not_equal", "less", "less_equal",
    "greater", "greater_equal", "logical_not", "logical_and", "logical_or", "logical_xor",
    "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor")
_IN_PLACE_METHODS += (
    "addmm", "addmv", "addbmm", "baddbmm", "addr", "addcmul", "addcdiv", "index_add",
    "index_copy", "index_fill", "index_put", "put", "masked_scatter", "scatter_reduce",
    "fill_diagonal", "renorm")
for _name in _IN_PLACE_METHODS:
    setattr(Tensor, f"{_name}_", _in_place(_name))

Tensor.ndimension, Tensor.nelement = Tensor.dim, Tensor.numel     # PyTorch's second names


def _random_fill(kind):
    """``x.<kind>_(..., generator=None)``: x overwritten with random draws (ops/random.py)."""
    def method(self, *args, generator=None, **kwargs):
        values = ops.random.fill_values(kind, self, *args, generator=generator, **kwargs)
        return inplace.overwrite(self, values, f"{kind}_")
    method.__name__ = f"{kind}_"
    return method


# The in-place random fills, each with a generator= keyword as in PyTorch.
for _kind in ("uniform", "normal", "random", "exponential", "log_normal", "cauchy", "geometric"):
    setattr(Tensor, f"{_kind}_", _random_fill(_kind))

# Python's operators: ``x + y`` is ``tg.add(x, y)``; the reflected ``2 - x`` is ``tg.sub(2, x)``.
_OPERATORS = {
    "__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div", "__pow__": "pow",
    "__matmul__": "matmul", "__floordiv__": "floor_divide", "__mod__": "remainder",
    "__neg__": "neg", "__abs__": "abs", "__getitem__": "getitem",
    "__eq__": "eq", "__ne__": "ne", "__lt__": "lt", "__le__": "le", "__gt__": "gt", "__ge__": "ge",
    "__invert__": "bitwise_not", "__and__": "bitwise_and", "__or__": "bitwise_or",
    "__xor__": "bitwise_xor"}
_REFLECTED_OPERATORS = {"__radd__": "add", "__rsub__": "sub", "__rmul__": "mul",
                        "__rtruediv__": "div", "__rpow__": "pow", "__rmatmul__": "matmul",
                        "__rfloordiv__": "floor_divide", "__rmod__": "remainder",
                        "__rand__": "bitwise_and", "__ror__": "bitwise_or",
                        "__rxor__": "bitwise_xor"}


def _reflected(op):
    def method(self, other):
        return op(other, self)
    return method


for _name, _op in _OPERATORS.items():
    setattr(Tensor, _name, getattr(ops, _op))
for _name, _op in _REFLECTED_OPERATORS.items():
    setattr(Tensor, _name, _reflected(getattr(ops, _op)))

# Bit shifts and frexp (ops/bits.py), with the shift operators, and index_reduce (index_ops.py).
for _name in ("bitwise_left_shift", "bitwise_right_shift", "frexp", "index_reduce"):
    setattr(Tensor, _name, getattr(ops, _name))
Tensor.__lshift__, Tensor.__rshift__ = ops.bitwise_left_shift, ops.bitwise_right_shift
Tensor.__rlshift__ = _reflected(ops.bitwise_left_shift)
Tensor.__rrshift__ = _reflected(ops.bitwise_right_shift)
Tensor.bitwise_left_shift_ = _in_place("bitwise_left_shift")
Tensor.bitwise_right_shift_ = _in_place("bitwise_right_shift")

# The augmented assignments beyond tensor.py's += -= *= /=: without them Python would rebind
# x to a new tensor, leaving x's memory (and every view of it) unchanged.
for _name, _method in {"__ipow__": "pow_", "__imod__": "remainder_",
                       "__ifloordiv__": "floor_divide_", "__iand__": "bitwise_and_",
                       "__ior__": "bitwise_or_", "__ixor__": "bitwise_xor_",
                       "__ilshift__": "bitwise_left_shift_",
                       "__irshift__": "bitwise_right_shift_"}.items():
    setattr(Tensor, _name, getattr(Tensor, _method))

# The special functions (ops/special_functions.py); polygamma takes n first, so its methods
# pass the tensor second, as PyTorch's x.polygamma(n).
for _name in ("lgamma", "digamma", "erfinv", "i0", "mvlgamma"):
    setattr(Tensor, _name, getattr(ops, _name))
    setattr(Tensor, f"{_name}_", _in_place(_name))
Tensor.polygamma = lambda self, n: ops.polygamma(n, self)
for _name in ("igamma", "igammac"):                    # ops/special_rest.py
    setattr(Tensor, _name, getattr(ops, _name))
    setattr(Tensor, f"{_name}_", _in_place(_name))
Tensor.polygamma_ = lambda self, n: inplace.modify(
    self, "polygamma_", lambda t: ops.polygamma(n, t))

# nanquantile, in-place and legacy forms, Python maps, complex/layout queries (tensor_extras.py).
from tinygen import tensor_extras  # noqa: E402

tensor_extras.install(Tensor)

# Complex tensors: real/imag views, conj, angle, conjugating H/mH (ops/complex_ops.py).
from tinygen.ops import complex_ops as _complex_ops  # noqa: E402

_complex_ops.install(Tensor)

# The short-time Fourier transform (fft_stft.py), as x.stft(...) and x.istft(...).
from tinygen import fft_stft as _fft_stft  # noqa: E402

Tensor.stft, Tensor.istft = _fft_stft.stft, _fft_stft.istft

# nonzero_static, new_empty_strided, as_subclass, dim_order (tensor_methods_more.py).
from tinygen import tensor_methods_more as _more  # noqa: E402

_more.install(Tensor)

# untyped_storage, storage and set_ (storage.py).
from tinygen import storage as _storage  # noqa: E402

Tensor.untyped_storage, Tensor.storage = _storage.untyped_storage, _storage.storage
Tensor.set_ = _storage.set_

# to_sparse/to_dense, and the operators of sparse COO tensors (tinygen/sparse/).
from tinygen import sparse as _sparse  # noqa: E402

_sparse.install(Tensor)
