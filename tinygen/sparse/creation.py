"""Making sparse COO tensors: ``tg.sparse_coo_tensor(indices, values, size)`` and
``dense.to_sparse()``, with PyTorch's checks and error messages on the indices and size."""

from tinygen import creation
from tinygen.backend import get_array_module
from tinygen.sparse.coo import SparseCooTensor
from tinygen.tensor import Tensor


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """A sparse tensor with ``values[j]`` at position ``indices[:, j]``, as
    ``torch.sparse_coo_tensor``. ``indices``: (sparse_dim, nnz) integers; ``values``: (nnz,
    *dense_shape); ``size`` defaults to the smallest that holds the indices. Positions may repeat
    (they add up) unless ``is_coalesced=True`` promises sorted, unique positions.

    With ``requires_grad=True`` the result is a new leaf (its ``.grad`` is sparse); otherwise
    gradients flow into ``values`` when it requires grad. ``check_invariants`` is accepted; the
    bounds are always checked.
    """
    if not isinstance(values, Tensor):
        values = creation.tensor(values, dtype=dtype, device=device)
    elif (dtype is not None and values.dtype != dtype) or device is not None:
        values = values.to(device=device, dtype=dtype)
    if values.ndim == 0:
        raise RuntimeError("sparse_coo_tensor: values must have at least 1 dim (nnz, ...), got "
                           "a 0-d tensor")
    xp = get_array_module(values.array)
    raw = indices.array if isinstance(indices, Tensor) else indices
    raw = xp.asarray(raw)
    if raw.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(raw.shape)}")
    if raw.size and raw.dtype.kind not in "iu":
        raise RuntimeError(f"sparse_coo_tensor: indices must be an int64 tensor, got {raw.dtype}")
    raw = raw.astype(xp.int64)
    k, nnz = raw.shape
    if values.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {values.shape[0]}")
    dense_shape = tuple(values.shape[1:])
    highest = [int(v) for v in raw.max(axis=1)] if nnz else [-1] * k
    if size is None:
        size = tuple(h + 1 for h in highest) + dense_shape
    else:
        size = tuple(int(n) for n in size)
        _check_size(raw, size, highest, dense_shape)
    if requires_grad:
        values = values.detach().requires_grad_()
    return SparseCooTensor._make(raw, values, size, bool(is_coalesced))


def _check_size(raw, size, highest, dense_shape):
    """PyTorch's errors for a size that does not hold the indices and values."""
    k = raw.shape[0]
    if len(size) != k + len(dense_shape):
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = "
                           f"{len(size)}, sparse_dim = {k}, dense_dim = {len(dense_shape)}")
    if tuple(size[k:]) != dense_shape:
        raise RuntimeError(f"sparse_coo_tensor: the dense dims of size {tuple(size)} must equal "
                           f"values.shape[1:] = {dense_shape}")
    if raw.shape[1]:
        lowest = raw.min(axis=1)
        for d in range(k):
            if int(lowest[d]) < 0:
                raise RuntimeError(f"found negative index {int(lowest[d])} for dim {d}")
            if highest[d] >= size[d]:
                raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                                   f"{size[d]} but found index {highest[d]}")


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """The nonzeros of a dense tensor as a coalesced sparse COO tensor; with ``sparse_dim`` only
    the first dims are sparse and values keep the rest (a slice with any nonzero is kept)."""
    if isinstance(self, SparseCooTensor):
        return self.to_sparse(sparse_dim)
    if layout is not None and getattr(layout, "name", None) != "sparse_coo":
        raise NotImplementedError(f"to_sparse: layout {layout} is not supported (only "
                                  f"tg.sparse_coo)")
    k = self.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 < k <= self.ndim:
        raise RuntimeError(f"to_sparse: sparse_dim must be in [1, {self.ndim}] for a tensor of "
                           f"shape {tuple(self.shape)}, got {k}")
    xp = get_array_module(self.array)
    mask = self.array != 0
    if k < self.ndim:
        mask = mask.any(axis=tuple(range(k, self.ndim)))
    positions = xp.nonzero(mask)
    values = self[tuple(Tensor._wrap(p) for p in positions)]
    indices = xp.stack(positions).astype(xp.int64)
    return SparseCooTensor._make(indices, values, self.shape, True)


def to_dense(self, dtype=None, *, masked_grad=None):
    """A dense tensor is its own dense form (``dtype`` converts it), as in PyTorch."""
    if isinstance(self, SparseCooTensor):
        return self.to_dense(dtype)
    return self if dtype is None else self.to(dtype)
