"""The remaining ``torch.Tensor`` methods that scripts still call: ``nanquantile``, a few in-place
forms (``float_power_``, ``index_reduce_``, ``as_strided_``, ``conj_physical_``, ``abs_``),
legacy ones (``new``, ``resize``), Python-callable maps (``apply_``, ``map_``, ``map2_``, CPU
only), and the complex/layout queries, which for tinygen's real, dense, strided tensors have
fixed answers (``conj`` is the tensor itself, ``is_sparse`` is False, ``layout`` is
``tg.strided``), as PyTorch gives for real tensors.

``install(Tensor)`` attaches them (tensor_methods.py calls it).
"""

import math
import warnings
from collections import namedtuple

import numpy as np

from tinygen import creation, dtypes, ops
from tinygen.autograd import inplace
from tinygen.backend import get_array_module
from tinygen.tensor import Tensor
from tinygen.ops.activation import prelu
from tinygen.ops.shape_inplace import storage_view
from tinygen.ops.statistics import nanquantile


class layout:
    """A tensor memory layout, as ``torch.layout``; tinygen has one, ``tg.strided``."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"tinygen.{self.name}"


strided = layout("strided")

triangular_solve_result = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


def _float_power_(self, exponent):
    """In place, so the base must already have the result's dtype: complex128 where either
    operand is complex, else float64."""
    complex_ = self.dtype.kind == "c" or (exponent.dtype.kind == "c" if isinstance(
        exponent, Tensor) else isinstance(exponent, complex))
    dtype = np.complex128 if complex_ else np.float64
    if self.dtype != dtype:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the "
                           f"operation's result requires dtype {np.dtype(dtype)}")
    return inplace.modify(self, "float_power_", ops.float_power, exponent)


def _abs_(self):
    """|x| in place; a complex tensor cannot hold its real result, as PyTorch refuses."""
    if self.dtype.kind == "c":
        raise RuntimeError(f"In-place abs is not supported for complex tensors "
                           f"(got {self.dtype})")
    return inplace.modify(self, "abs_", ops.abs)


def _conj_physical_(self):
    """Conjugate in place: a real tensor keeps its values but, as in PyTorch, is written."""
    return inplace.modify(self, "conj_physical_", ops.conj_physical)


def _index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    return inplace.modify(self, "index_reduce_", lambda t, *a: ops.index_reduce(
        t, *a, reduce, include_self=include_self), dim, index, source)


def _as_strided_(self, size, stride, storage_offset=None):
    """Make this tensor the strided view ``as_strided`` describes, of its own memory. While
    recording, it takes ``as_strided``'s place in the graph (a leaf that requires grad is
    refused), as the in-place shape methods do."""
    view = storage_view(self, size, stride, storage_offset)             # checks the bounds
    if inplace._recording(self, ()):
        inplace._refuse_while_recording(self, "as_strided_")
        inplace._take_place(self, self.as_strided(size, stride, storage_offset))
    self.array = view
    self._shared_version()[0] += 1                                      # as PyTorch counts it
    return self


def _new(self, *args, device=None):
    """Legacy ``x.new(...)``: ``new(2, 3)`` is uninitialised with x's dtype and device,
    ``new([1, 2])`` a tensor of that data in x's dtype, ``new()`` an empty one."""
    device = self.device if device is None else device
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0]
    if all(isinstance(a, (int, np.integer)) for a in args):
        size = tuple(int(a) for a in args) if args else (0,)
        return creation.empty(size, dtype=self.dtype, device=device)
    if len(args) == 1:
        return creation.tensor(args[0], dtype=self.dtype, device=device)
    raise TypeError(f"new() received an invalid combination of arguments: {args}")


def _resize(self, *sizes):
    """Deprecated out-of-place resize: a reshape that must keep the number of elements."""
    warnings.warn("non-inplace resize is deprecated", stacklevel=2)
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
        else sizes
    if math.prod(sizes) != self.numel():
        raise RuntimeError(f"requested resize to {'x'.join(map(str, sizes))} "
                           f"({math.prod(sizes)} elements in total), but the given tensor has "
                           f"a size of {'x'.join(map(str, self.shape))} ({self.numel()} "
                           f"elements). autograd's resize can only change the shape of a given "
                           f"tensor, while preserving the number of elements.")
    return self.reshape(sizes)


def _python_map(name, self, fn, *others):
    """Write ``fn(self_i, *others_i)`` into every element of ``self`` (``others`` broadcast
    to its shape), with Python numbers, as PyTorch's CPU-only ``apply_``/``map_``/``map2_``."""
    for t in (self, *others):
        if t.requires_grad:
            raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                               f"var.detach().{name}() instead.")
        if not isinstance(t.array, np.ndarray):
            raise TypeError(f"{name}_ is only implemented on CPU tensors")
    columns = [self.array.reshape(-1)] + [
        np.broadcast_to(t.array, self.shape).reshape(-1) for t in others]
    values = [fn(*(c[i].item() for c in columns)) for i in range(self.numel())]
    self.array[...] = np.asarray(values, dtype=self.dtype).reshape(self.shape)
    self._shared_version()[0] += 1
    return self


def _angle(self):
    """The argument of each element: pi for negative reals, 0 otherwise (NaN stays NaN)."""
    x = self if self.dtype.kind == "f" else self.to(dtypes.get_default_dtype())
    xp = get_array_module(x.array)
    sign = Tensor(xp.where(x.array < 0, math.pi, 0.0).astype(x.dtype))
    return ops.where(Tensor(xp.isnan(x.array)), x, sign)        # gradient 0, as PyTorch's


def _imag(self):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def _H(self):
    if self.ndim not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor.")
    return self.transpose(0, 1) if self.ndim == 2 else self


def _mH(self):
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. "
                           f"Got {self.ndim}-D tensor.")
    return self.transpose(-2, -1)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """Deprecated ``torch.triangular_solve``: X with ``A X = b`` (``A^T X = b`` when
    ``transpose``), A triangular; returns ``(solution, cloned_coefficient)``."""
    from tinygen import linalg
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"triangular_solve: A must be batches of square matrices, got shape "
                           f"{tuple(A.shape)}")
    coefficient = A.mT if transpose else A
    solution = linalg.solve_triangular(coefficient, b, upper=upper != transpose,
                                       unitriangular=unitriangular)
    return triangular_solve_result(solution, A.clone())


def _to_dtype(dtype):
    """The ``x.bfloat16()``-style shorthand for ``x.to(dtype)`` (bfloat16 and complex32 raise:
    NumPy has neither)."""
    def method(self, memory_format=None):
        return self.to(dtype)
    return method


def _rdiv(self, other):
    """``other / self`` written as PyTorch's ``Tensor.__rdiv__`` is: reciprocal, then product."""
    return self.reciprocal() * other


def _itself(self, *args, **kwargs):
    return self


def _false(self, *args, **kwargs):
    return False


_ITSELF = ("conj", "resolve_conj", "resolve_neg", "conj_physical", "pin_memory", "share_memory_")
_FALSE = ("is_conj", "is_neg", "is_pinned", "is_shared")
_FALSE_PROPERTIES = ("is_sparse", "is_quantized", "is_meta", "is_nested", "is_mkldnn")


def install(cls):
    """Attach the methods and properties above to ``cls`` (Tensor)."""
    for name in _ITSELF:
        setattr(cls, name, _itself)
    for name in _FALSE:
        setattr(cls, name, _false)
    for name in _FALSE_PROPERTIES:
        setattr(cls, name, property(_false))
    cls.real = property(_itself)
    cls.imag = property(_imag)
    cls.layout = property(lambda self: strided)
    cls.output_nr = property(lambda self: self._output_nr or 0)
    cls.H, cls.mH = property(_H), property(_mH)
    cls.adjoint = _mH
    cls.angle = _angle
    cls.prelu = prelu
    cls.nanquantile = nanquantile
    cls.float_power_, cls.index_reduce_ = _float_power_, _index_reduce_
    cls.as_strided_ = _as_strided_
    cls.abs_ = cls.absolute_ = _abs_
    cls.conj_physical_ = _conj_physical_
    cls.new = _new
    cls.resize = _resize
    cls.resize_as = lambda self, other: _resize(self, *other.shape)
    cls.apply_ = lambda self, fn: _python_map("apply_", self, fn)
    cls.map_ = lambda self, other, fn: _python_map("map_", self, fn, other)
    cls.map2_ = lambda self, x, y, fn: _python_map("map2_", self, fn, x, y)
    cls.unsafe_chunk, cls.unsafe_split = cls.chunk, cls.split
    cls.unsafe_split_with_sizes = cls.split_with_sizes
    cls.triangular_solve = triangular_solve
    cls.bfloat16, cls.chalf = _to_dtype(dtypes.bfloat16), _to_dtype(dtypes.complex32)
    cls.cfloat, cls.cdouble = _to_dtype(dtypes.complex64), _to_dtype(dtypes.complex128)
    cls.__rdiv__ = _rdiv
