"""Ops on sparse COO tensors, as ``torch.sparse``: ``mm``/``addmm`` (sparse @ dense), ``sum``,
``softmax``/``log_softmax`` over the specified entries, ``sparse * scalar``, ``sparse + sparse``
and the transpose of a 2-D sparse tensor.

The products are scatter-adds over the nonzeros, never a dense copy of the sparse operand:
``(S @ D)[r] += v * D[c]`` for each entry (r, c, v), written as a gather of D's rows, a multiply
and an ``IndexAdd``. All three are differentiable tensor ops, so the gradients to D and to the
values (and their second derivatives) come from their own backward rules.
"""

import numbers

from tinygen.backend import get_array_module
from tinygen.ops.indexing import IndexAdd
from tinygen.ops.rearrange import _combine_at
from tinygen.sparse.coo import SparseCooTensor, linear_index
from tinygen.tensor import Tensor


def mm(mat1, mat2):
    """sparse (n, m) @ dense (m, p) -> dense (n, p), as ``torch.sparse.mm``; gradients reach
    mat2 and the sparse operand's values."""
    _check_mm("mm", mat1, mat2)
    rows, cols = mat1._sparse_indices
    gathered = mat2[Tensor._wrap(cols)]                       # (nnz, p): D[c] for each entry
    contributions = mat1._sparse_values.unsqueeze(1) * gathered
    return IndexAdd.apply(contributions, (mat1.shape[0], mat2.shape[1]), (rows,))


def spmm(input, mat2):
    """``torch.spmm``: sparse @ dense with ``mm`` above, or the dense ``mm`` for a dense input."""
    if isinstance(input, SparseCooTensor):
        return mm(input, mat2)
    from tinygen.ops.linalg import mm as dense_mm
    return dense_mm(input, mat2)


def _check_mm(op, mat1, mat2):
    if not isinstance(mat1, SparseCooTensor):
        raise TypeError(f"{op}: expected a sparse COO first operand, got {type(mat1).__name__}")
    if isinstance(mat2, SparseCooTensor):
        raise NotImplementedError(f"{op}: sparse @ sparse is not supported; convert the second "
                                  f"operand with .to_dense()")
    if mat1.sparse_dim() != 2 or mat1.dense_dim() != 0 or mat2.ndim != 2:
        raise RuntimeError(f"{op}: expected a 2-D sparse tensor (sparse_dim 2) and a 2-D dense "
                           f"tensor, got shapes {tuple(mat1.shape)} and {tuple(mat2.shape)}")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {mat1.shape[1]}, "
                           f"got {mat2.shape[0]}")
    if mat1.dtype != mat2.dtype:
        raise RuntimeError(f"{op}: expected mat1 and mat2 to have the same dtype, but got: "
                           f"{mat1.dtype} != {mat2.dtype}")


def matmul(input, other):
    """sparse @ dense for a 2-D sparse ``input`` and a 1-D or 2-D dense ``other``."""
    if not isinstance(other, SparseCooTensor) and other.ndim == 1:
        return mm(input, other.unsqueeze(1)).squeeze(1)
    return mm(input, other)


def addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0):
    """beta * input + alpha * (mat1 @ mat2) for sparse mat1, as ``torch.sparse.addmm``
    (with beta = 0, input is ignored, NaNs included)."""
    product = mm(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return product + (input if beta == 1 else input * beta)


def sum(input, dim=None, dtype=None):
    """The sum over ``dim`` (all dims by default), as ``torch.sparse.sum``: dense when every sparse
    dim is summed, else a coalesced sparse tensor over the sparse dims that remain."""
    values = input._sparse_values if dtype is None else input._sparse_values.to(dtype)
    if dim is None:
        return values.sum()
    dims = sorted({d % input.ndim for d in ((dim,) if isinstance(dim, int) else dim)})
    k = input.sparse_dim()
    dense_axes = tuple(d - k + 1 for d in dims if d >= k)
    if dense_axes:
        values = values.sum(dense_axes)
    kept = [d for d in range(k) if d not in dims]
    if not kept:
        return values.sum(0)
    size = [input.shape[d] for d in kept] + [n for d, n in enumerate(input.shape)
                                              if d >= k and d not in dims]
    reduced = SparseCooTensor._make(input._sparse_indices[kept], values, size)
    return reduced.coalesce()


def softmax(input, dim, *, dtype=None):
    """Softmax over ``dim`` of the specified entries only (the others count as -inf and stay
    unspecified), as ``torch.sparse.softmax``; the result has the coalesced input's pattern."""
    return _softmax(input, dim, dtype, log=False)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax over ``dim`` of the specified entries, as ``torch.sparse.log_softmax``."""
    return _softmax(input, dim, dtype, log=True)


def _softmax(input, dim, dtype, log):
    input = input.coalesce()
    values = input._sparse_values if dtype is None else input._sparse_values.to(dtype)
    dim = dim % input.ndim
    k = input.sparse_dim()
    if dim >= k:                                 # a dense dim: an ordinary softmax per entry
        out = values.log_softmax(dim - k + 1) if log else values.softmax(dim - k + 1)
    else:
        out = _grouped_softmax(input, values, dim, log)
    return SparseCooTensor._make(input._sparse_indices, out, input.shape, True)


def _grouped_softmax(input, values, dim, log):
    """Softmax of the entries that share every sparse index but ``dim``'s."""
    xp = get_array_module(input._sparse_indices)
    others = [d for d in range(input.sparse_dim()) if d != dim]
    key = linear_index(input._sparse_indices[others], [input.shape[d] for d in others])
    _, group = xp.unique(key, return_inverse=True)
    group = group.reshape(-1)
    n_groups = int(group.max()) + 1 if group.size else 0
    shape = (n_groups,) + tuple(values.shape[1:])
    peak = xp.full(shape, -xp.inf, dtype=values.dtype)   # a constant shift: no gradient needed
    _combine_at(xp, "maximum", peak, (group,), values.array)
    shifted = values - Tensor._wrap(peak[group])
    exps = shifted.exp()
    totals = IndexAdd.apply(exps, shape, (group,))[Tensor._wrap(group)]
    return shifted - totals.log() if log else exps / totals


def mul(input, other):
    """sparse * number (or a 0-d tensor): the values scaled, the pattern kept."""
    if isinstance(other, SparseCooTensor) or (
            isinstance(other, Tensor) and other.ndim != 0):
        raise NotImplementedError("mul: only sparse * scalar is supported for sparse tensors; "
                                  "convert the operands with .to_dense()")
    if not isinstance(other, (numbers.Number, Tensor)):
        return NotImplemented
    return SparseCooTensor._make(input._sparse_indices, input._sparse_values * other,
                                 input.shape, input._coalesced)


def add(input, other, *, alpha=1):
    """sparse + sparse (same size): the entries of both, coalesced when both were, as in
    PyTorch. An uncoalesced operand gives the concatenated entries (PyTorch's CUDA result; its
    CPU code merges them, which can leave fewer entries, with the same dense value). A dense
    ``other`` gives the dense sum."""
    if not isinstance(other, SparseCooTensor):
        if isinstance(other, Tensor):
            return input.to_dense() + (other if alpha == 1 else other * alpha)
        raise NotImplementedError("add: sparse + number is not supported (it would be dense); "
                                  "use .to_dense() + number")
    if input.shape != other.shape:
        raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but "
                           f"{list(input.shape)} != {list(other.shape)}")
    if input.sparse_dim() != other.sparse_dim():
        raise RuntimeError(f"add: sparse_dim {input.sparse_dim()} and {other.sparse_dim()} "
                           f"differ")
    other_values = other._sparse_values if alpha == 1 else other._sparse_values * alpha
    xp = get_array_module(input._sparse_indices)
    from tinygen.ops import cat
    both = SparseCooTensor._make(
        xp.concatenate([input._sparse_indices, other._sparse_indices], axis=1),
        cat([input._sparse_values, other_values], 0), input.shape)
    return both.coalesce() if input._coalesced and other._coalesced else both


def transpose(input, dim0, dim1):
    """The sparse tensor with sparse dims ``dim0`` and ``dim1`` swapped (uncoalesced, as in
    PyTorch)."""
    n = input.ndim
    dim0, dim1 = dim0 % n, dim1 % n
    if max(dim0, dim1) >= input.sparse_dim():
        raise NotImplementedError("transpose: only sparse dims of a sparse tensor can be swapped")
    order = list(range(input.sparse_dim()))
    order[dim0], order[dim1] = dim1, dim0
    size = list(input.shape)
    size[dim0], size[dim1] = size[dim1], size[dim0]
    coalesced = input._coalesced and dim0 == dim1
    return SparseCooTensor._make(input._sparse_indices[order], input._sparse_values, size,
                                 coalesced)


def t(input):
    """The transpose of a 2-D sparse tensor (a 1-D one is itself), as ``Tensor.t``."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return input if input.ndim < 2 else transpose(input, 0, 1)
