"""Shared pieces of ``tg.linalg``: ``LinAlgError``, input checks with PyTorch's wording, and the
LAPACK-style ``info`` codes (which pivot or leading minor failed) for the error messages.

The info codes are found on the host, only after a factorization failed, by a plain LU with
partial pivoting (or Cholesky on growing leading blocks): the cost is paid on the error path.
"""

import numpy as np

from tinygen.backend import get_array_module
from tinygen.tensor import Tensor


class LinAlgError(RuntimeError):
    """A matrix was singular or not positive-definite, as ``torch.linalg.LinAlgError``."""


def check_float(A, op, half=False):
    """Raise unless A is a float32/float64/complex64/complex128 tensor (PyTorch's error for
    integer inputs); ``half=True`` also takes float16, for the ops PyTorch runs in it (norms,
    matrix_exp). Ops whose backward is not complex-correct still refuse to record a graph
    through a complex input (ops/complex_support.py)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    smallest = (2 if half else 4) if A.dtype.kind == "f" else 8
    if A.dtype.kind not in "fc" or A.dtype.itemsize < smallest:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                           f"Got {A.dtype}")


def check_square(A, op, name="A", half=False):
    """Raise unless A is a (batch of) square float matrices."""
    check_matrix(A, op, name, half)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def check_matrix(A, op, name="A", half=False):
    """Raise unless A is a (batch of) float matrices."""
    check_float(A, op, half)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")


def check_same_dtype(A, B, op):
    if A.dtype != B.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype} and B of type {B.dtype} instead")


def to_host(array):
    """A NumPy copy of a NumPy or CuPy array."""
    return array.get() if hasattr(array, "get") else np.asarray(array)


def lu_info(a):
    """For each matrix of a (..., n, n): 0, or the 1-based index of the first zero pivot of an
    LU with partial pivoting (LAPACK getrf's info)."""
    a = to_host(a).astype(np.float64)
    batch = a.shape[:-2]
    flat = a.reshape(-1, *a.shape[-2:]).copy()
    info = np.zeros(len(flat), dtype=np.int32)
    for b, m in enumerate(flat):
        n = m.shape[0]
        for k in range(n):
            p = k + int(np.argmax(np.abs(m[k:, k])))
            if m[p, k] == 0:
                info[b] = k + 1
                break
            m[[k, p]] = m[[p, k]]
            m[k + 1:, k:] -= np.outer(m[k + 1:, k] / m[k, k], m[k, k:])
    return info.reshape(batch)


def cholesky_info(a):
    """For each matrix of a: 0, or the order of the first leading minor that is not positive
    definite (LAPACK potrf's info)."""
    a = to_host(a)
    batch = a.shape[:-2]
    flat = a.reshape(-1, *a.shape[-2:])
    info = np.zeros(len(flat), dtype=np.int32)
    for b, m in enumerate(flat):
        for k in range(1, m.shape[0] + 1):
            block = np.tril(m[:k, :k]) + np.tril(m[:k, :k], -1).conj().T
            try:
                np.linalg.cholesky(block)
            except np.linalg.LinAlgError:
                info[b] = k
                break
    return info.reshape(batch)


def batch_prefix(info, batch_ndim):
    """The failing matrix's place, ``(Batch element i): `` as PyTorch writes it (flat index)."""
    if batch_ndim == 0:
        return "", int(info)
    flat = np.asarray(info).reshape(-1)
    i = int(np.flatnonzero(flat)[0])
    return f"(Batch element {i}): ", int(flat[i])


def info_tensor(info, like):
    """The int32 ``info`` tensor of the ``*_ex`` functions, on like's device."""
    xp = get_array_module(like)
    return Tensor(xp.asarray(info, dtype=np.int32))


def eye_like(A):
    """The identity of A's matrix size, dtype and device (no grad), broadcastable to A."""
    xp = get_array_module(A.array)
    return Tensor(xp.eye(A.shape[-1], dtype=A.dtype))
