"""Questions about tensors, as PyTorch's top-level functions: ``tg.is_tensor``, ``tg.numel``,
``tg.is_floating_point``, ``tg.is_same_size`` and ``tg.result_type``."""

from tinygen import dtypes
from tinygen.tensor import Tensor


def is_tensor(obj):
    """True when ``obj`` is a tinygen Tensor (a Parameter included)."""
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def result_type(tensor1, tensor2):
    """The dtype of an arithmetic op between two tensors or numbers, by PyTorch's promotion
    (see dtypes.py): a dimensioned tensor outranks a 0-dim one, which outranks a number, within
    one category; a number alone gives its category's default dtype."""
    (a_dtype, a_ndim, a_number), (b_dtype, b_ndim, b_number) = map(_operand, (tensor1, tensor2))
    if a_number and not b_number:
        return dtypes.result_type(b_dtype, b_ndim, a_dtype, a_ndim, True)
    return dtypes.result_type(a_dtype, a_ndim, b_dtype, b_ndim, b_number)


def _operand(value):
    """(dtype, ndim, is_number) of a tensor or a Python number (else a TypeError)."""
    if isinstance(value, Tensor):
        return value.dtype, value.ndim, False
    return dtypes._scalar_dtype(value), 0, True
