"""LU with partial pivoting: ``linalg.lu_factor``/``lu_factor_ex``, ``linalg.lu``,
``linalg.lu_solve``, ``lu_unpack`` and the old ``torch.lu``/``torch.lu_solve``.

NumPy has no LU, so the factorization is LAPACK's getrf written in array code: a loop over the
columns, each step a vectorised row swap and rank-1 update of the whole batch (works on CuPy
too). Pivots are LAPACK's 1-based int32 row swaps, as PyTorch's. Backward is PyTorch's
linalg_lu_backward (square, wide and tall) through triangular solves, so it differentiates again;
``lu_solve`` and ``lu_unpack`` are compositions of differentiable ops.
"""

import math
from collections import namedtuple

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.layout import tril, triu
from tinygen.ops.linalg_common import (
    LinAlgError, batch_prefix, check_float, check_matrix, check_same_dtype, check_square)
from tinygen.ops.linalg_inverse import solve_triangular
from tinygen.ops.shape import cat, squeeze, unsqueeze
from tinygen.tensor import Tensor

LUFactorResult = namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUResult = namedtuple("linalg_lu", ["P", "L", "U"])
LUUnpackResult = namedtuple("lu_unpack", ["P", "L", "U"])


def _getrf(a, pivot):
    """(LU, pivots, info) of each matrix of a (..., m, n), as LAPACK getrf: a zero pivot sets
    info to its 1-based column (the first one) and that column is left unscaled."""
    xp = get_array_module(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    count = math.prod(batch)                       # not -1: ambiguous with a size-0 dim
    lu = a.reshape((count, m, n)).copy()
    rows = xp.arange(count)
    piv = xp.broadcast_to(xp.arange(1, k + 1, dtype=np.int32), (count, k)).copy()
    info = xp.zeros(count, dtype=np.int32)
    for j in range(k):
        if pivot:
            p = j + xp.argmax(_pivot_size(lu[:, j:, j], xp), axis=-1)
            piv[:, j] = (p + 1).astype(np.int32)
            row_j = lu[rows, j].copy()
            lu[rows, j] = lu[rows, p]
            lu[rows, p] = row_j
        d = lu[:, j, j]
        zero = d == 0
        info = xp.where(zero & (info == 0), j + 1, info).astype(np.int32)
        scale = xp.where(zero, 1, d)[:, None]
        lu[:, j + 1:, j] = xp.where(zero[:, None], lu[:, j + 1:, j], lu[:, j + 1:, j] / scale)
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return lu.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def _pivot_size(column, xp):
    """What getrf maximises to pick a pivot: |x|, or |Re z| + |Im z| for complex (LAPACK's
    izamax), so that complex pivots (and LU) equal LAPACK's and PyTorch's."""
    if column.dtype.kind == "c":
        return xp.abs(column.real) + xp.abs(column.imag)
    return xp.abs(column)


def _permutation(pivots, m, dtype, xp):
    """P (..., m, m) with A = P L U, from LAPACK's row swaps (applied in order)."""
    batch = pivots.shape[:-1]
    count = math.prod(batch)
    piv = pivots.reshape((count, pivots.shape[-1])).astype(np.int64) - 1
    rows = xp.arange(count)
    perm = xp.broadcast_to(xp.arange(m), (count, m)).copy()
    for j in range(piv.shape[-1]):
        p = piv[:, j]
        old = perm[:, j].copy()
        perm[:, j] = perm[rows, p]
        perm[rows, p] = old
    P = xp.zeros((count, m, m), dtype=dtype)
    P[rows[:, None], perm, xp.arange(m)[None, :]] = 1    # row perm[i] of A is row i of L U
    return P.reshape(batch + (m, m))


def _split(LU):
    """The unit-lower L (m, k) and upper U (k, n) stored in LU (differentiable)."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    xp = get_array_module(LU.array)
    L = tril(LU[..., :, :k], -1) + Tensor(xp.eye(m, k, dtype=LU.dtype))
    return L, triu(LU[..., :k, :])


class LUFactor(ArrayFunction):
    """(LU, pivots, info) = getrf(A). Backward is PyTorch's linalg_lu_backward with the
    gradients of L and U read off LU's: gL = tril(gLU, -1), gU = triu(gLU), then P times the
    square, wide or tall formula below (conjugate transposes: PyTorch's complex convention)."""
    supports_complex = True

    @staticmethod
    def forward(ctx, A, pivot):
        lu, piv, info = _getrf(A, pivot)
        ctx.mark_non_differentiable(piv, info)
        ctx.save_for_backward(lu, piv)
        return lu, piv, info

    @staticmethod
    def backward(ctx, grad_lu, grad_piv, grad_info):
        LU, piv = ctx.saved_tensors
        m, n = LU.shape[-2:]
        k = min(m, n)
        L, U = _split(LU)
        gL, gU = tril(grad_lu[..., :, :k], -1), triu(grad_lu[..., :k, :])
        if m == n:
            g = _square_grad(L, U, gL, gU)
        elif m < n:
            g = _wide_grad(L, U, gL, gU, k)
        else:
            g = _tall_grad(L, U, gL, gU, k)
        xp = get_array_module(LU.array)
        P = Tensor(_permutation(piv.array, m, LU.dtype, xp))
        return P @ g, None


def _square_grad(L, U, gL, gU):
    """L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H."""
    phi = tril(L.mH @ gL, -1) + triu(gU @ U.mH)
    g = solve_triangular(U.mH, phi, upper=False, left=False)
    return solve_triangular(L.mH, g, upper=True, unitriangular=True)


def _wide_grad(L, U, gL, gU, k):
    """m < n, U = [U1 U2]: L^-H [gU1 + tril(L^H gL - gU U^H, -1) U1^-H, gU2] (PyTorch)."""
    phi = tril(L.mH @ gL - gU @ U.mH, -1)
    g = solve_triangular(U[..., :k].mH, phi, upper=False, left=False)
    g = cat([g + gU[..., :k], gU[..., k:]], -1)
    return solve_triangular(L.mH, g, upper=True, unitriangular=True)


def _tall_grad(L, U, gL, gU, k):
    """m > n, L = [L1; L2]: [gL1 + L1^-H triu(gU U^H - L^H gL), gL2] U^-H (PyTorch)."""
    phi = triu(gU @ U.mH - L.mH @ gL)
    g = solve_triangular(L[..., :k, :].mH, phi, upper=True, unitriangular=True)
    g = cat([g + gL[..., :k, :], gL[..., k:, :]], -2)
    return solve_triangular(U.mH, g, upper=False, left=False)


def _raise_zero_pivot(info, batch_ndim, op):
    if np.any(np.asarray(_host(info))):
        where, k = batch_prefix(_host(info), batch_ndim)
        raise LinAlgError(f"{op}: {where}U[{k},{k}] is zero and using it on lu_solve would "
                          f"result in a division by zero. If you still want to perform the "
                          f"factorization, consider calling linalg.lu(A, pivot) or "
                          f"linalg.lu_factor_ex(A, pivot)")


def _host(array):
    return array.get() if hasattr(array, "get") else np.asarray(array)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info) as ``torch.linalg.lu_factor_ex``: L (unit diagonal, not stored) and U
    packed in LU, 1-based int32 pivots, info > 0 the first zero pivot of U (1-based)."""
    op = "torch.linalg.lu_factor_ex"
    check_matrix(A, op)
    lu, piv, info = LUFactor.apply(A, bool(pivot))
    if check_errors:
        _raise_zero_pivot(info.array, A.ndim - 2, op)
    return LUFactorExResult(lu, piv, info)


def lu_factor(A, *, pivot=True):
    """(LU, pivots) as ``torch.linalg.lu_factor``; raises LinAlgError for a zero pivot."""
    op = "torch.linalg.lu_factor"
    check_matrix(A, op)
    lu, piv, info = LUFactor.apply(A, bool(pivot))
    _raise_zero_pivot(info.array, A.ndim - 2, op)
    return LUFactorResult(lu, piv)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) with A = P L U from the packed ``lu_factor`` output; the parts not asked for
    are empty tensors, as PyTorch."""
    check_matrix(LU_data, "lu_unpack", "LU_data")
    xp = get_array_module(LU_data.array)
    empty = Tensor(xp.zeros((0,), dtype=LU_data.dtype))
    L, U = _split(LU_data) if unpack_data else (empty, empty)
    P = empty
    if unpack_pivots:
        P = Tensor(_permutation(LU_pivots.array, LU_data.shape[-2], LU_data.dtype, xp))
    return LUUnpackResult(P, L, U)


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U as ``torch.linalg.lu``: P a permutation, L (m, k) unit lower,
    U (k, n) upper, k = min(m, n). Singular A is fine (U has a zero on its diagonal)."""
    check_matrix(A, "torch.linalg.lu")
    lu_data, piv, _ = LUFactor.apply(A, bool(pivot))
    P, L, U = lu_unpack(lu_data, piv)
    if not pivot:
        P = Tensor(get_array_module(A.array).zeros((0,), dtype=A.dtype))
    return LUResult(P, L, U)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (X A = B when not ``left``; A^H in place of A when ``adjoint``) for
    A = P L U given by ``lu_factor``: triangular solves and a permutation."""
    op = "linalg.lu_solve"
    check_square(LU, op, "LU")
    check_float(B, op)
    check_same_dtype(LU, B, op)
    if B.ndim < 2:
        raise RuntimeError(f"{op}: Expected B to have at least 2 dimensions, but it has "
                           f"{B.ndim} dimensions instead")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    if not left:                            # X A = B  <=>  A^H X^H = B^H
        return lu_solve(LU, pivots, B.mH, left=True, adjoint=not adjoint).mH
    P, L, U = lu_unpack(LU, pivots)
    if adjoint:                             # U^H L^H P^T X = B
        Y = solve_triangular(U.mH, B, upper=False)
        Y = solve_triangular(L.mH, Y, upper=True, unitriangular=True)
        return P @ Y
    Y = solve_triangular(L, P.mT @ B, upper=False, unitriangular=True)
    return solve_triangular(U, Y, upper=True)


def old_lu(A, pivot=True, get_infos=False):
    """``torch.lu``: (LU, pivots), or (LU, pivots, infos) when ``get_infos``; as PyTorch's, it
    does not raise for a singular matrix."""
    result = tuple(lu_factor_ex(A, pivot=pivot))
    return result if get_infos else result[:2]


def old_lu_solve(b, LU_data, LU_pivots):
    """``torch.lu_solve(b, LU_data, LU_pivots)``: ``linalg.lu_solve`` with b first."""
    return lu_solve(LU_data, LU_pivots, b)


def tensorinv(A, ind=2):
    """The inverse of A seen as a linear map from its first ``ind`` dims' space to the rest's,
    as ``torch.linalg.tensorinv``: shape A.shape[ind:] + A.shape[:ind]."""
    from tinygen.ops.linalg_inverse import inv
    check_float(A, "tensorinv")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement "
                           f"prod(self.shape[ind:]) == prod(self.shape[:ind]), but got "
                           f"{cols} != {rows}")
    return inv(A.reshape(rows, cols)).reshape(*A.shape[ind:], *A.shape[:ind])


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B, as ``torch.linalg.tensorsolve``; ``dims`` are dims of
    A moved to the end first."""
    from tinygen.ops.linalg_inverse import solve
    from tinygen.ops.rearrange import movedim
    check_float(A, "tensorsolve")
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = movedim(A, tuple(dims), tuple(range(A.ndim - len(dims), A.ndim)))
    out_shape = tuple(A.shape[B.ndim:])
    rows, cols = math.prod(B.shape), math.prod(out_shape)
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement "
                           f"prod(result_shape) == prod(other.shape), but got "
                           f"{cols} != {rows} (A {tuple(A.shape)}, B {tuple(B.shape)})")
    x = solve(A.reshape(rows, cols), unsqueeze(B.reshape(rows), -1))
    return squeeze(x, -1).reshape(*out_shape)
