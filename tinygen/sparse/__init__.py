"""``tg.sparse``: sparse COO tensors and the ``torch.sparse`` ops graph models use.

    adj = tg.sparse_coo_tensor(edge_index, weights, (n, n))
    h = tg.sparse.mm(adj, x)          # or adj @ x, tg.mm(adj, x)

The tensor class is in coo.py, its constructors in creation.py, the ops in ops.py.
"""

from tinygen.sparse import ops as _ops
from tinygen.sparse.coo import SparseCooTensor, sparse_coo
from tinygen.sparse.creation import sparse_coo_tensor, to_dense, to_sparse
from tinygen.sparse.ops import addmm, log_softmax, mm, softmax, spmm, sum

__all__ = ["SparseCooTensor", "addmm", "log_softmax", "mm", "softmax", "sparse_coo",
           "sparse_coo_tensor", "spmm", "sum"]


def _matmul(self, other):
    return _ops.matmul(self, other)


def _sum(self, dim=None, keepdim=False, dtype=None):
    if keepdim:
        raise NotImplementedError("sum: keepdim=True is not supported for sparse tensors")
    return _ops.sum(self, dim, dtype)


def install(tensor_class):
    """Give dense tensors ``to_sparse``/``to_dense`` and sparse ones their operators."""
    tensor_class.to_sparse, tensor_class.to_dense = to_sparse, to_dense
    tensor_class.to_sparse_coo = lambda self: to_sparse(self)
    cls = SparseCooTensor
    cls.__matmul__ = cls.matmul = cls.mm = _matmul
    cls.__mul__ = cls.__rmul__ = cls.mul = _ops.mul
    cls.__truediv__ = cls.div = lambda self, other: _ops.mul(self, 1 / other)
    cls.__neg__ = lambda self: _ops.mul(self, -1)
    cls.__add__ = cls.add = _ops.add
    cls.__radd__ = _ops.add               # dense + sparse: the dense sum, as in PyTorch
    cls.__sub__ = cls.sub = lambda self, other, *, alpha=1: _ops.add(self, other, alpha=-alpha)
    cls.t, cls.transpose = _ops.t, _ops.transpose
    cls.sum = _sum
    cls.softmax = lambda self, dim, dtype=None: _ops.softmax(self, dim, dtype=dtype)
    cls.log_softmax = lambda self, dim, dtype=None: _ops.log_softmax(self, dim, dtype=dtype)
