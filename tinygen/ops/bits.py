"""Bit shifts (``<<``, ``>>``), ``frexp`` and ``index_reduce``: ops with no gradient (integer
results, or a reduction whose backward tinygen does not implement: it says so when asked).
"""

import numpy as np

from tinygen.autograd.grad_mode import state
from tinygen.backend import get_array_module
from tinygen.ops.convert import binary_operands
from tinygen.tensor import Tensor


def _arrays(a, b):
    """Both operands as arrays of PyTorch's common dtype (a 0-d tensor or a Python int yields to
    a dimensioned tensor of the same category); shifts exist for integers only."""
    a, b = binary_operands(a, b)
    tensor = a if isinstance(a, Tensor) else b
    if tensor.dtype.kind not in "iu":
        raise NotImplementedError(f"bitwise shifts need integer tensors, got {tensor.dtype}")
    xp = get_array_module(tensor.array)
    a_array, b_array = (xp.asarray(t.array if isinstance(t, Tensor) else t, dtype=tensor.dtype)
                        for t in (a, b))
    return xp, a_array, b_array


def bitwise_left_shift(input, other):
    xp, a, b = _arrays(input, other)
    return Tensor(xp.left_shift(a, b))


def bitwise_right_shift(input, other):
    xp, a, b = _arrays(input, other)
    return Tensor(xp.right_shift(a, b))


def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1)."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got "
                           f"{input.dtype}")
    mantissa, exponent = get_array_module(input.array).frexp(input.array)
    return Tensor(mantissa), Tensor(exponent.astype(np.int32))


_REDUCERS = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``input`` with ``source``'s slices along ``dim`` reduced into the slices ``index``
    names, by ``reduce`` in prod, mean, amax, amin (forward only: no gradient)."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    if state.grad_enabled and (input.requires_grad or source.requires_grad):
        raise NotImplementedError("index_reduce has no backward in tinygen; call it under "
                                  "tg.no_grad() or on detached tensors")
    xp = get_array_module(input.array)
    dim = dim % max(input.ndim, 1)
    idx = index.array.astype(np.int64)
    out = xp.moveaxis(input.array.copy(), dim, 0)
    src = xp.moveaxis(source.array.astype(input.dtype), dim, 0)
    if src.shape[0] != idx.size or src.shape[1:] != out.shape[1:]:
        raise RuntimeError(f"index_reduce(): source of shape {tuple(source.shape)} does not "
                           f"match input {tuple(input.shape)} with {idx.size} indices on dim {dim}")
    touched = xp.unique(idx)
    if not include_self:
        identity = {"prod": 1, "mean": 0, "amax": -np.inf, "amin": np.inf}[reduce]
        if out.dtype.kind != "f" and reduce in ("amax", "amin"):
            info = np.iinfo(out.dtype)
            identity = info.min if reduce == "amax" else info.max
        out[touched] = identity
    if reduce == "mean":
        np_add = xp.add
        np_add.at(out, idx, src)
        counts = xp.bincount(idx, minlength=out.shape[0]).astype(out.dtype)
        counts = counts + (1 if include_self else 0)
        counts = xp.where(counts == 0, 1, counts).reshape((-1,) + (1,) * (out.ndim - 1))
        scale = xp.zeros(out.shape[0], dtype=bool)
        scale[touched] = True
        scale = scale.reshape(counts.shape)
        out = xp.where(scale, out / counts, out)
        if out.dtype != input.dtype:
            out = xp.floor(out).astype(input.dtype)
    else:
        ufunc = _REDUCERS[reduce] if xp is np else getattr(xp, _REDUCERS[reduce].__name__)
        ufunc.at(out, idx, src)
    return Tensor(xp.ascontiguousarray(xp.moveaxis(out, 0, dim)))
