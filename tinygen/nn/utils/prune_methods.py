"""Checks and array helpers shared by the pruning methods in ``prune.py`` (PyTorch's messages)."""

import numbers

from tinygen.backend import get_array_module


def _validate_pruning_amount_init(amount):
    """``amount`` must be a non-negative int or a float in [0, 1]."""
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         f"non-negative integer")


def _validate_pruning_amount(amount, tensor_size):
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _compute_nparams_toprune(amount, tensor_size):
    """An int amount is a count; a float one a fraction, rounded half to even as torch."""
    if isinstance(amount, numbers.Integral):
        return amount
    return round(amount * tensor_size)


def _validate_structured_pruning(t):
    if t.ndim <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {tuple(t.shape)} with {t.ndim} dims")


def _validate_pruning_dim(t, dim):
    if dim >= t.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")


def ln_norm_channels(a, n, dim):
    """The L``n`` norm of each slice of array ``a`` along ``dim`` (n may be inf, -inf, 'fro')."""
    xp = get_array_module(a)
    flat = xp.abs(xp.moveaxis(a, dim, 0).reshape(a.shape[dim], -1))
    if n == "fro":
        n = 2
    if n == float("inf"):
        return flat.max(axis=1)
    if n == float("-inf"):
        return flat.min(axis=1)
    if n == 0:
        return (flat != 0).sum(axis=1).astype(a.dtype)
    return (flat ** n).sum(axis=1) ** (1.0 / n)


def topk_indices(values, k, largest):
    """Indices of the k largest (or smallest) entries of the 1-d array ``values``; among equal
    values the lower index wins. (PyTorch's CPU topk leaves ties to its C++ selection algorithm,
    so a mask cut through a tie may keep other entries there.)"""
    order = get_array_module(values).argsort(-values if largest else values, kind="stable")
    return order[:k]
