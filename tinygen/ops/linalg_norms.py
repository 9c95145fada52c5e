"""Norms and the functions built on the SVD: ``linalg.matrix_norm``, ``norm``, ``cond``,
``matrix_rank``, ``pinv``, ``lstsq``, plus the small helpers ``vecdot``, ``diagonal``,
``vander`` and ``cross`` of ``torch.linalg``. All are compositions of differentiable ops, so
their gradients (and second derivatives) come from those ops.
"""

import math
from collections import namedtuple

import numpy as np

from tinygen.backend import get_array_module
from tinygen.ops.elementwise import abs
from tinygen.ops.linalg import cross as _cross
from tinygen.ops.linalg_common import (
    check_float, check_matrix, check_same_dtype, check_square, eye_like)
from tinygen.ops.linalg_decompose import svd, svdvals
from tinygen.ops.linalg_inverse import inv, inv_ex
from tinygen.ops.norm import vector_norm as _vector_norm
from tinygen.ops.rearrange import diagonal as _diagonal, movedim
from tinygen.ops.reduce import amax, amin, sum
from tinygen.ops.shape import cat, expand, unsqueeze
from tinygen.tensor import Tensor

LstsqResult = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])

_MATRIX_ORDS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.vector_norm``; a complex x gives the (real) norm of |x|, as PyTorch."""
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(x, Tensor) and x.dtype.kind == "c":
        x = abs(x)
    return _vector_norm(x, ord, dim, keepdim)


def _to_last_two(A, dim, op):
    """A with the two dims ``dim`` moved to the end, and those dims normalized."""
    if len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {tuple(dim)}")
    d0, d1 = (d % A.ndim if -A.ndim <= d < A.ndim else None for d in dim)
    if d0 is None or d1 is None:
        raise IndexError(f"{op}: dim {tuple(dim)} out of range for a {A.ndim}-D tensor")
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({d0}, {d1})")
    return movedim(A, (d0, d1), (-2, -1)), (d0, d1)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The ``ord`` norm of the matrices in dims ``dim`` of A, as ``torch.linalg.matrix_norm``:
    'fro', 'nuc' (sum of singular values), 2 / -2 (largest / smallest singular value),
    1 / -1 (max / min column abs sum), inf / -inf (max / min row abs sum)."""
    op = "linalg.matrix_norm"
    if dtype is not None:
        A = A.to(dtype)
    check_matrix(A, op)
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"{op}: Order {ord} not supported.")
    X, dims = _to_last_two(A, tuple(dim), op)
    if ord not in ("fro", "nuc") and 0 in X.shape[-2:]:
        y = _empty_norm(X, ord)
    elif ord == "fro":
        y = vector_norm(X, 2, (-2, -1))
    elif ord == "nuc":
        y = sum(svdvals(X), -1)
    elif ord in (2, -2):
        y = (amax if ord == 2 else amin)(svdvals(X), -1)
    else:
        rows = ord in (math.inf, -math.inf)        # inf: sums along rows; 1: along columns
        sums = sum(abs(X), -1 if rows else -2)
        y = (amax if ord > 0 else amin)(sums, -1)
    if keepdim:
        for d in sorted(dims):
            y = unsqueeze(y, d)
    return y


def _empty_norm(X, ord):
    """The ord norm of (..., m, n) matrices with m or n zero, as PyTorch: a max over nothing is
    0 (the reduced sums are 0 when only the other dim is empty), a min over nothing raises."""
    if ord in (2, -2):
        reduced = min(X.shape[-2:])                # singular values
    else:                                          # inf: row sums (m of them); 1: column sums
        reduced = X.shape[-2] if ord in (math.inf, -math.inf) else X.shape[-1]
    if ord < 0 and reduced == 0:
        dim = -1 if ord == -2 else 0
        raise IndexError(f"amin(): Expected reduction dim {dim} to have non-zero size.")
    return sum(X, (-2, -1)) * 0                    # zeros in A's graph


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int (or ord is None and dim is
    None: the 2-norm of all elements), a matrix norm when ``dim`` is a 2-tuple or A is 2-D."""
    if dtype is not None:
        A = A.to(dtype)
    check_float(A, "linalg.norm")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim)
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {A.ndim}D.")
        dim = tuple(range(A.ndim))
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: ord={ord!r} is a matrix norm; it needs a 2-D dim")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim)


def cond(A, p=None):
    """The condition number of each matrix in the norm ``p``: s_max / s_min for None or 2
    (s_min / s_max for -2); otherwise norm(A, p) * norm(A^-1, p) (square A only), inf for a
    singular A (as PyTorch: no error)."""
    from tinygen.ops.compare import where
    check_matrix(A, "linalg.cond")
    if 0 in A.shape[-2:] and (p not in ("fro", "nuc") or A.shape[-1] == A.shape[-2]):
        xp = get_array_module(A.array)             # empty matrices: 0, as PyTorch (no grad)
        return Tensor(xp.zeros(A.shape[:-2], dtype=A.dtype))
    if p is None or p in (2, -2):
        s = svdvals(A)
        ratio = s[..., 0] / s[..., -1]
        return 1 / ratio if p == -2 else ratio
    check_square(A, "linalg.cond")
    singular = inv_ex(A.detach()).info > 0
    safe = where(unsqueeze(unsqueeze(singular, -1), -1), eye_like(A), A)   # no nan in backward
    return where(singular, math.inf, matrix_norm(safe, p) * matrix_norm(inv(safe), p))


def _tolerance(S, shape, atol, rtol):
    """max(atol, rtol * s_max), rtol defaulting to eps * max(m, n) when neither is given."""
    xp = get_array_module(S)
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(S.dtype).eps * max(shape)
    atol = 0.0 if atol is None else atol
    smax = S[..., :1] if S.shape[-1] else xp.zeros(S.shape[:-1] + (1,), S.dtype)
    return xp.maximum(atol, rtol * smax)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values above max(atol, rtol * s_max) (an int64 tensor);
    ``hermitian`` is accepted and ignored."""
    check_matrix(A, "linalg.matrix_rank")
    S = svdvals(A.detach()).array
    rank = (S > _tolerance(S, A.shape[-2:], atol, rtol)).sum(-1)
    return Tensor(rank.astype(np.int64))


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse V diag(1/s) U^T, singular values at or below
    max(atol, rtol * s_max) taken as zero. Differentiable where the rank is constant and the
    singular values are distinct (the SVD's gradient). ``hermitian`` is accepted and ignored
    (the SVD serves symmetric input too)."""
    check_matrix(A, "linalg.pinv")
    U, S, Vh = svd(A, full_matrices=False)
    keep = Tensor(S.array > _tolerance(S.array, A.shape[-2:], atol, rtol))
    from tinygen.ops.compare import where
    s_inv = where(keep, 1 / where(keep, S, 1), 0)
    return Vh.mT @ (unsqueeze(s_inv, -1) * U.mT)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B (as ``torch.linalg.lstsq``; B may be a batch of
    vectors): a named tuple (solution, residuals, rank, singular_values). The solution is
    pinv(A) B, differentiable; residuals (squared, per column) are given when m > n and A has
    full rank, rank and singular_values always (PyTorch leaves some empty by driver)."""
    op = "linalg.lstsq"
    check_matrix(A, op)
    check_float(B, op)
    check_same_dtype(A, B, op)
    vector = B.ndim == A.ndim - 1
    B2 = unsqueeze(B, -1) if vector else B
    if B2.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size(-2), got shapes "
                           f"{tuple(A.shape)} and {tuple(B.shape)}")
    X = pinv(A, rtol=rcond) @ B2
    S = svdvals(A.detach())
    rank = matrix_rank(A.detach(), rtol=rcond)
    m, n = A.shape[-2:]
    xp = get_array_module(A.array)
    if m > n and bool((rank.array == n).all()):
        residuals = sum((A @ X - B2) ** 2, -2)
    else:
        residuals = Tensor(xp.zeros((0,), dtype=A.dtype))
    X = X[..., 0] if vector else X
    residuals = residuals[..., 0] if vector and residuals.ndim > 1 else residuals
    return LstsqResult(X, residuals, rank, S)


def vecdot(x, y, *, dim=-1):
    """sum(x * y) over ``dim`` (inputs broadcast), as ``torch.linalg.vecdot`` for real x."""
    return sum(x * y, dim)


def cross(input, other, *, dim=-1):
    """The cross product along ``dim`` (default -1, unlike ``torch.cross``)."""
    return _cross(input, other, dim=dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of A's matrices (dims dim1, dim2 by default the last two)."""
    return _diagonal(A, offset, dim1, dim2)


def vander(x, *, N=None):
    """Powers x^0, x^1, ..., x^(N-1) in a new last dim (N defaults to x.size(-1)), as
    ``torch.linalg.vander``; running products, so the gradient at 0 is exact."""
    from tinygen.ops.statistics import cumprod
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    N = x.shape[-1] if N is None else N
    if N < 1:
        raise RuntimeError(f"linalg.vander: N must be positive, got {N}")
    column = unsqueeze(x, -1)
    ones = Tensor(get_array_module(x.array).ones(column.shape, dtype=x.dtype))
    rest = expand(column, (*x.shape, N - 1))
    return cumprod(cat([ones, rest], -1), -1)
