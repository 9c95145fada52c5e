"""Norms and the functions built on the SVD: ``linalg.matrix_norm``, ``norm``, ``cond``,
``matrix_rank``, ``pinv``, ``lstsq``, plus the small helpers ``vecdot``, ``diagonal``,
``vander`` and ``cross`` of ``torch.linalg``. All are compositions of differentiable ops, so
their gradients (and second derivatives) come from those ops.
"""

import math
from collections import namedtuple

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.elementwise import abs
from tinygen.ops.linalg import cross as _cross
from tinygen.ops.linalg_common import (
    check_float, check_matrix, check_same_dtype, check_square, eye_like)
from tinygen.ops.linalg_decompose import svdvals
from tinygen.ops.linalg_inverse import inv, inv_ex
from tinygen.ops.norm import vector_norm as _vector_norm
from tinygen.ops.rearrange import diagonal as _diagonal, movedim
from tinygen.ops.reduce import amax, amin, sum
from tinygen.ops.shape import cat, expand, unsqueeze
from tinygen.tensor import Tensor

LstsqResult = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])

_MATRIX_ORDS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.vector_norm`` (ops/norm.py does the work, complex input included)."""
    return _vector_norm(x, ord, dim, keepdim, dtype)


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
    check_matrix(A, op, half=ord not in ("nuc", 2, -2))      # PyTorch's svd has no float16
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
    check_float(A, "linalg.norm", half=True)
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
    """max(atol, rtol * s_max) for S (..., k) sorted by size, with a trailing dim of 1; atol
    and rtol are numbers or tensors broadcasting to the batch. rtol defaults to
    eps * max(m, n), or to 0 where atol > 0 is given."""
    xp = get_array_module(S)
    atol, rtol = (t if t is None or isinstance(t, (int, float)) else
                  xp.asarray(getattr(t, "array", t))[..., None] for t in (atol, rtol))
    if rtol is None:
        eps = np.finfo(S.dtype).eps * max(shape)
        rtol = eps if atol is None else xp.where(xp.asarray(atol) > 0, 0.0, eps)
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


def _pinv(a, atol, rtol, hermitian):
    """V diag(1/s) U^H with the s at or below the tolerance dropped; for ``hermitian`` the
    eigendecomposition of a's lower triangle (s = |eigenvalues|), as PyTorch."""
    xp = get_array_module(a)
    if hermitian:
        w, Q = xp.linalg.eigh(a)
        size = xp.abs(w)
        S = -xp.sort(-size, axis=-1)
        keep = size > _tolerance(S, a.shape[-2:], atol, rtol)
        w_inv = xp.where(keep, 1 / xp.where(keep, w, 1), 0)
        return (Q * w_inv[..., None, :]) @ xp.conj(xp.swapaxes(Q, -1, -2))
    U, S, Vh = xp.linalg.svd(a, full_matrices=False)
    keep = S > _tolerance(S, a.shape[-2:], atol, rtol)
    s_inv = xp.where(keep, 1 / xp.where(keep, S, 1), 0).astype(a.dtype)
    return xp.conj(xp.swapaxes(Vh, -1, -2)) @ (s_inv[..., None] * xp.conj(xp.swapaxes(U, -1, -2)))


class Pinv(ArrayFunction):
    """X = pinv(A). Backward is PyTorch's pinv_backward (Golub and Pereyra 1973), right where
    the rank is locally constant (repeated or zero singular values included), written in
    tensor ops of A and X, so it differentiates again."""
    supports_complex = True

    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        if 0 in A.shape:
            X = get_array_module(A).zeros(A.shape[:-2] + A.shape[-1:] + A.shape[-2:-1], A.dtype)
        else:
            X = _pinv(A, atol, rtol, hermitian).astype(A.dtype, copy=False)
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, grad):
        A, X = ctx.saved_tensors
        Xh, gh = X.mH, grad.mH
        if A.shape[-2] <= A.shape[-1]:
            K = gh @ X
            KXh = K @ Xh
            return (-(X @ K).mH + KXh - (A @ X) @ KXh + (Xh @ X) @ (gh - K @ A),
                    None, None, None)
        K = X @ gh
        XhK = Xh @ K
        return -(K @ X).mH + XhK - XhK @ (X @ A) + (gh - A @ K) @ X @ Xh, None, None, None


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse V diag(1/s) U^H, singular values at or below
    max(atol, rtol * s_max) taken as zero (atol, rtol numbers or tensors over the batch); for
    ``hermitian`` A only its lower triangle is read, as PyTorch. Differentiable where the rank
    is locally constant."""
    check_matrix(A, "linalg.pinv")
    return Pinv.apply(A, atol, rtol, bool(hermitian))


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B (as ``torch.linalg.lstsq``; B may be a batch of
    vectors): a named tuple (solution, residuals, rank, singular_values). The solution is
    pinv(A) B, differentiable. As PyTorch on the CPU (default driver 'gelsy'): the squared
    residuals (per column) come when m > n, A has full rank and the driver is not 'gelsy';
    rank for all drivers but 'gels'; singular values for 'gelsd' and 'gelss'; the rest are
    empty."""
    op = "linalg.lstsq"
    check_matrix(A, op)
    check_float(B, op)
    check_same_dtype(A, B, op)
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                           f"gelss), got {driver}")
    vector = B.ndim == A.ndim - 1
    B2 = unsqueeze(B, -1) if vector else B
    if B2.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size(-2), got shapes "
                           f"{tuple(A.shape)} and {tuple(B.shape)}")
    X = pinv(A, rtol=rcond) @ B2
    xp = get_array_module(A.array)
    real = np.dtype(A.dtype.char.lower()) if A.dtype.kind == "c" else A.dtype
    empty = Tensor(xp.zeros((0,), dtype=real))
    rank = matrix_rank(A.detach(), rtol=rcond)
    m, n = A.shape[-2:]
    residuals = empty
    if m > n and driver != "gelsy" and bool((rank.array == n).all()):
        residuals = sum(abs(A @ X - B2) ** 2, -2)         # (..., 1) for a vector B, as PyTorch
    if driver == "gels":
        rank = Tensor(xp.zeros((0,), dtype=np.int64))
    S = svdvals(A.detach()) if driver in ("gelsd", "gelss") else empty
    return LstsqResult(X[..., 0] if vector else X, residuals, rank, S)


def vecdot(x, y, *, dim=-1):
    """sum(conj(x) * y) over ``dim`` (inputs broadcast), as ``torch.linalg.vecdot``."""
    from tinygen.ops.complex_ops import conj
    return sum((conj(x) if x.dtype.kind == "c" else x) * y, dim)


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
    if x.ndim == 0:
        x = unsqueeze(x, 0)                  # a scalar is one point, as PyTorch: (1, N)
    N = x.shape[-1] if N is None else N
    if N < 1:
        raise RuntimeError(f"linalg.vander: N must be positive, got {N}")
    column = unsqueeze(x, -1)
    ones = Tensor(get_array_module(x.array).ones(column.shape, dtype=x.dtype))
    rest = expand(column, (*x.shape, N - 1))
    return cumprod(cat([ones, rest], -1), -1)
