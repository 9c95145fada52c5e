"""``SparseCooTensor``: a tensor stored as its nonzeros, as PyTorch's ``torch.sparse_coo`` layout.

A sparse COO tensor of ``size`` keeps an int64 ``indices`` array of shape (sparse_dim, nnz)
and a ``values`` Tensor of shape (nnz, *dense_shape): entry j puts ``values[j]`` at
``size[:sparse_dim]`` position ``indices[:, j]``. The first ``sparse_dim`` dims are sparse, the
rest (``dense_dim``) dense. Positions named twice add up; ``coalesce()`` sorts the positions and
sums the repeats (PyTorch's ``is_coalesced``).

Autograd goes through the values Tensor: every op here is built from differentiable dense ops on
it (gather, multiply, ``IndexAdd`` scatter), so gradients reach whatever the values came from. A
sparse leaf made with ``requires_grad=True`` keeps its values as the leaf, and its ``.grad`` is a
sparse tensor with the coalesced sparsity pattern, as PyTorch gives for ``torch.sparse.mm``.

The class is a ``Tensor`` subclass (``isinstance(s, tg.Tensor)`` holds, as in PyTorch) without a
dense array: a dense op given one raises NotImplementedError naming the op and ``.to_dense()``.
"""

import os
import sys

from tinygen import dtypes
from tinygen.backend import get_array_module
from tinygen.ops.indexing import IndexAdd
from tinygen.size import Size
from tinygen.tensor import Tensor
from tinygen.tensor_extras import layout
from tinygen.tensor_str import _add_suffixes, array_str

sparse_coo = layout("sparse_coo")
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SparseCooTensor(Tensor):
    """A sparse tensor in coordinate format; build one with ``tg.sparse_coo_tensor`` or
    ``dense.to_sparse()``."""

    __slots__ = ("_sparse_indices", "_sparse_values", "_sparse_size", "_coalesced")

    @classmethod
    def _make(cls, indices, values, size, coalesced=False):
        """From an int64 (sparse_dim, nnz) array, a values Tensor and the full size (no checks)."""
        t = cls.__new__(cls)
        t._grad = t._grad_fn = t._hooks = t._version_box = t._base = None
        t._output_nr = 0
        t._sparse_indices, t._sparse_values = indices, values
        t._sparse_size = Size.of(tuple(int(n) for n in size))
        t._coalesced = bool(coalesced) or indices.shape[1] <= 1
        return t

    # What a sparse tensor is

    @property
    def array(self):
        raise NotImplementedError(
            f"{_caller_op()}: not supported for sparse tensors (layout=tg.sparse_coo); convert "
            f"with .to_dense() first")

    @property
    def shape(self):
        return self._sparse_size

    @property
    def dtype(self):
        return self._sparse_values.dtype

    @property
    def device(self):
        return self._sparse_values.device

    @property
    def ndim(self):
        return len(self._sparse_size)

    @property
    def is_sparse(self):
        return True

    @property
    def layout(self):
        return sparse_coo

    @property
    def requires_grad(self):
        return self._sparse_values.requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self._sparse_values.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        self._sparse_values.requires_grad_(requires_grad)
        return self

    @property
    def grad_fn(self):
        return self._sparse_values.grad_fn

    @property
    def grad(self):
        """The values' gradient as a sparse tensor on the coalesced pattern (None before any)."""
        g = self._sparse_values.grad
        if g is None:
            return None
        if self._coalesced:
            return SparseCooTensor._make(self._sparse_indices, g, self.shape, True)
        xp = get_array_module(self._sparse_indices)
        flat = linear_index(self._sparse_indices, self.shape[:self.sparse_dim()])
        _, first = xp.unique(flat, return_index=True)    # repeats share one gradient
        indices = self._sparse_indices[:, first]
        return SparseCooTensor._make(indices, g[first], self.shape, False)

    @grad.setter
    def grad(self, value):
        if value is not None:
            raise RuntimeError("sparse tensors: only .grad = None can be assigned")
        self._sparse_values.grad = None

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    def __len__(self):
        return self.shape[0]

    def sparse_dim(self):
        return self._sparse_indices.shape[0]

    def dense_dim(self):
        return self._sparse_values.ndim - 1

    def _nnz(self):
        return self._sparse_indices.shape[1]

    def is_coalesced(self):
        return self._coalesced

    def _indices(self):
        return Tensor._wrap(self._sparse_indices)

    def _values(self):
        return self._sparse_values

    def indices(self):
        """The (sparse_dim, nnz) int64 positions; the tensor must be coalesced, as in PyTorch."""
        self._need_coalesced("indices")
        return self._indices()

    def values(self):
        """The (nnz, *dense_shape) values; the tensor must be coalesced, as in PyTorch."""
        self._need_coalesced("values")
        return self._values()

    def _need_coalesced(self, what):
        if not self._coalesced:
            raise RuntimeError(f"Cannot get {what} on an uncoalesced tensor, please call "
                               f".coalesce() first")

    def __repr__(self):
        return sparse_repr(self)

    # Conversions

    def coalesce(self):
        """The same tensor with its positions sorted and repeats summed (itself if already so)."""
        if self._coalesced:
            return self
        xp = get_array_module(self._sparse_indices)
        sparse_shape = self.shape[:self.sparse_dim()]
        flat = linear_index(self._sparse_indices, sparse_shape)
        unique, inverse = xp.unique(flat, return_inverse=True)
        values = self._sparse_values
        summed = IndexAdd.apply(values, (len(unique),) + tuple(values.shape[1:]),
                                (inverse.reshape(-1),))
        return SparseCooTensor._make(unravel(unique, sparse_shape), summed, self.shape, True)

    def to_dense(self, dtype=None, *, masked_grad=None):
        """The dense tensor: values scattered into zeros, repeats adding up (differentiable)."""
        sparse_shape = self.shape[:self.sparse_dim()]
        flat = linear_index(self._sparse_indices, sparse_shape)
        values = self._sparse_values if dtype is None else self._sparse_values.to(dtype)
        rows = 1
        for n in sparse_shape:
            rows *= n
        dense = IndexAdd.apply(values, (rows,) + tuple(values.shape[1:]), (flat,))
        return dense.reshape(tuple(self.shape))

    def to_sparse(self, sparse_dim=None):
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("to_sparse: changing sparse_dim of a sparse tensor is not "
                               "supported; go through .to_dense()")
        return self

    def detach(self):
        return SparseCooTensor._make(self._sparse_indices, self._sparse_values.detach(),
                                     self.shape, self._coalesced)

    def to(self, *args, **kwargs):
        """Values converted by ``Tensor.to`` (dtype and/or device); indices follow the device."""
        values = self._sparse_values.to(*args, **kwargs)
        if values is self._sparse_values:
            return self
        indices = get_array_module(values.array).asarray(self._sparse_indices)
        if values.device.type == "cpu" and hasattr(indices, "get"):
            indices = indices.get()
        return SparseCooTensor._make(indices, values, self.shape, self._coalesced)

    def double(self, memory_format=None):
        return self.to(dtypes.float64)

    def float(self, memory_format=None):
        return self.to(dtypes.float32)

    def clone(self, memory_format=None):
        return SparseCooTensor._make(self._sparse_indices.copy(), self._sparse_values.clone(),
                                     self.shape, self._coalesced)


def linear_index(indices, sparse_shape):
    """Row-major flat position of each column of the (k, nnz) ``indices`` in ``sparse_shape``."""
    xp = get_array_module(indices)
    flat = xp.zeros(indices.shape[1], dtype=indices.dtype)
    for d, n in enumerate(sparse_shape):
        flat = flat * n + indices[d]
    return flat


def unravel(flat, sparse_shape):
    """The inverse of ``linear_index``: a (k, nnz) int64 array of positions."""
    xp = get_array_module(flat)
    rows = []
    for n in reversed(tuple(sparse_shape)):
        rows.append(flat % n)
        flat = flat // n
    return xp.stack(rows[::-1]) if rows else xp.zeros((0, flat.shape[0]), dtype=flat.dtype)


def _caller_op():
    """The name of the op whose code asked a sparse tensor for its dense array: the outermost
    public tinygen function on the stack (``add`` for ``dense + sparse``)."""
    frame, name = sys._getframe(2), None
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        if not frame.f_code.co_name.startswith(("_", "<")) and frame.f_code.co_name != "apply":
            name = frame.f_code.co_name
        frame = frame.f_back
    return name or "this op"


def _inner_repr(t, indent):
    """``tensor([...])`` for the indices or values of a sparse tensor, without a dtype."""
    host = t.detach()._host_array()
    text = "tensor(" + array_str(host, indent + len("tensor("))
    if host.size == 0:
        text += f", size={tuple(host.shape)}"
    return text + ")"


def sparse_repr(t):
    """As PyTorch prints a sparse COO tensor, with tinygen's names."""
    indent = len("tensor(")
    text = ("tensor(indices=" + _inner_repr(t._indices(), indent + len("indices=")) + ",\n"
            + " " * indent + "values=" + _inner_repr(t._sparse_values, indent + len("values="))
            + ",\n" + " " * indent + f"size={tuple(t.shape)}")
    suffixes = [f"nnz={t._nnz()}"]
    if t.dtype != dtypes.get_default_dtype():
        suffixes.append(f"dtype=tg.{t.dtype}")
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    suffixes.append("layout=tg.sparse_coo")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(text, suffixes, indent)
