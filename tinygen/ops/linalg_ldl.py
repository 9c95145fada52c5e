"""``linalg.ldl_factor``, ``ldl_factor_ex`` and ``ldl_solve``: the Bunch-Kaufman factorization
A = L D L^T (L D L^H when ``hermitian``) of symmetric indefinite matrices, in LAPACK sytrf's
compact form (uplo 'L') and with its 1-based pivots: pivots[k] > 0 is a 1x1 block whose row k
was swapped with row pivots[k]; pivots[k] = pivots[k + 1] < 0 is a 2x2 block, row k + 1
swapped with row -pivots[k].

The factorization is LAPACK's unblocked sytf2/hetf2, step by step, on the host (its pivot
choices need the values at each step). ``ldl_solve`` rebuilds A from the factors and solves
with ``xp.linalg.solve``. Neither has a derivative, as in PyTorch.
"""

from collections import namedtuple

import math

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.linalg_common import LinAlgError, check_float, check_square, info_tensor, to_host

LDLFactorResult = namedtuple("ldl_factor", ["LD", "pivots"])
LDLFactorExResult = namedtuple("ldl_factor_ex", ["LD", "pivots", "info"])

_ALPHA = (1 + 17 ** 0.5) / 8


def _cabs1(x):
    return np.abs(x.real) + np.abs(x.imag)


def _swap(a, i, j, h):
    """Rows/columns kk = i and kp = j of the trailing lower triangle (i < j), as sytf2."""
    n = a.shape[0]
    if j + 1 < n:
        a[j + 1:, [i, j]] = a[j + 1:, [j, i]]
    middle = a[i + 1:j, i].copy()
    a[i + 1:j, i] = np.conj(a[j, i + 1:j]) if h else a[j, i + 1:j]
    a[j, i + 1:j] = np.conj(middle) if h else middle
    if h:
        a[j, i] = np.conj(a[j, i])
    a[i, i], a[j, j] = a[j, j], a[i, i]


def _factor(a, h):
    """sytf2 (h: hetf2), lower, on one matrix in place; returns (pivots, info)."""
    n = a.shape[0]
    piv = np.zeros(n, np.int32)
    info, k = 0, 0
    diag = (lambda x: abs(x.real)) if h else _cabs1
    while k < n:
        step, absakk = 1, diag(a[k, k])
        imax = k + 1 + int(np.argmax(_cabs1(a[k + 1:, k]))) if k + 1 < n else k
        colmax = _cabs1(a[imax, k]) if k + 1 < n else 0.0
        if max(absakk, colmax) == 0 or np.isnan(absakk):
            info = info or k + 1
            kp = k
        elif absakk >= _ALPHA * colmax:
            kp = k
        else:
            row = _cabs1(a[imax, k:imax])
            rowmax = row.max()
            if imax + 1 < n:
                rowmax = max(rowmax, _cabs1(a[imax + 1:, imax]).max())
            if absakk >= _ALPHA * colmax * (colmax / rowmax):
                kp = k
            elif diag(a[imax, imax]) >= _ALPHA * rowmax:
                kp = imax
            else:
                kp, step = imax, 2
        kk = k + step - 1
        if kp != kk:
            _swap(a, kk, kp, h)
            if step == 2:
                a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]
        if step == 1:
            if h:
                a[k, k] = a[k, k].real
            if k + 1 < n and (a[k, k] != 0):
                x = a[k + 1:, k].copy()
                d = 1 / (a[k, k].real if h else a[k, k])
                outer = np.outer(x, np.conj(x) if h else x) * d
                a[k + 1:, k + 1:] -= np.tril(outer)
                a[k + 1:, k] = x * d
            piv[k] = kp + 1
        else:
            _update_2x2(a, k, h)
            piv[k] = piv[k + 1] = -(kp + 1)
        k += step
    if h:
        a[np.arange(n), np.arange(n)] = a.diagonal().real
    return piv, info


def _update_2x2(a, k, h):
    """The trailing update after a 2x2 pivot block at k, k + 1 (sytf2 / hetf2)."""
    n = a.shape[0]
    if k + 2 >= n:
        return
    if h:
        d = abs(a[k + 1, k])
        d11, d22 = a[k + 1, k + 1].real / d, a[k, k].real / d
        tt = 1 / (d11 * d22 - 1)
        d21 = a[k + 1, k] / d
        d = tt / d
        wk = d * (d11 * a[k + 2:, k] - d21 * a[k + 2:, k + 1])
        wkp1 = d * (d22 * a[k + 2:, k + 1] - np.conj(d21) * a[k + 2:, k])
        update = np.outer(a[k + 2:, k], np.conj(wk)) + np.outer(a[k + 2:, k + 1], np.conj(wkp1))
    else:
        d21 = a[k + 1, k]
        d11, d22 = a[k + 1, k + 1] / d21, a[k, k] / d21
        d21 = 1 / (d11 * d22 - 1) / d21
        wk = d21 * (d11 * a[k + 2:, k] - a[k + 2:, k + 1])
        wkp1 = d21 * (d22 * a[k + 2:, k + 1] - a[k + 2:, k])
        update = np.outer(a[k + 2:, k], wk) + np.outer(a[k + 2:, k + 1], wkp1)
    a[k + 2:, k + 2:] -= np.tril(update)
    a[k + 2:, k], a[k + 2:, k + 1] = wk, wkp1


class LDLFactor(ArrayFunction):
    """(LD, pivots, info) of each matrix; no derivative (PyTorch has none either)."""
    supports_complex = True

    @staticmethod
    def forward(ctx, A, hermitian):
        xp = get_array_module(A)
        host = to_host(A)
        count = math.prod(host.shape[:-2])      # not -1: ambiguous with a size-0 dim
        flat = np.tril(host.reshape(count, *host.shape[-2:])).copy()
        pivots = np.zeros(flat.shape[:-1], np.int32)
        info = np.zeros(len(flat), np.int32)
        for b in range(len(flat)):
            pivots[b], info[b] = _factor(flat[b], hermitian and host.dtype.kind == "c")
        return (xp.asarray(flat.reshape(host.shape)),
                xp.asarray(pivots.reshape(host.shape[:-1])), info.reshape(host.shape[:-2]))

    @staticmethod
    def backward(ctx, grad_LD, grad_pivots, grad_info):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """(LD, pivots, info) as ``torch.linalg.ldl_factor_ex``: info > 0 is the (1-based) index
    of a zero diagonal block of D (the matrix is singular: the factors are still returned)."""
    op = "torch.linalg.ldl_factor_ex"
    check_square(A, op)
    LD, pivots, info = LDLFactor.apply(A, bool(hermitian))
    info = to_host(info.array)
    if check_errors and np.any(info):
        raise LinAlgError(f"{op}: The factorization could not be completed because the "
                          f"input is singular (D has a zero diagonal element: info = "
                          f"{int(np.max(info))}).")
    return LDLFactorExResult(LD, pivots, info_tensor(info, A.array))


def ldl_factor(A, *, hermitian=False):
    """(LD, pivots) as ``torch.linalg.ldl_factor``: A = L D L^T (L D L^H when ``hermitian``)
    with Bunch-Kaufman pivoting (LAPACK sytrf, lower)."""
    LD, pivots, _ = ldl_factor_ex(A, hermitian=hermitian, check_errors=True)
    return LDLFactorResult(LD, pivots)


def _rebuild(ld, piv, h):
    """A = P L D L^T P^T (^H when h) from one matrix's sytrf factors (host arrays)."""
    n = ld.shape[0]
    L, D = np.eye(n, dtype=ld.dtype), np.zeros_like(ld)
    k = 0
    while k < n:
        step = 1 if piv[k] > 0 else 2
        kp = abs(int(piv[k])) - 1
        kk = k + step - 1
        P = np.eye(n, dtype=ld.dtype)
        P[[kk, kp]] = P[[kp, kk]]
        Lk = np.eye(n, dtype=ld.dtype)
        Lk[k + step:, k:k + step] = ld[k + step:, k:k + step]
        L = L @ P @ Lk
        D[k, k] = ld[k, k]
        if step == 2:
            D[k + 1, k + 1], D[k + 1, k] = ld[k + 1, k + 1], ld[k + 1, k]
            D[k, k + 1] = np.conj(ld[k + 1, k]) if h else ld[k + 1, k]
        k += step
    return L @ D @ (np.conj(L.T) if h else L.T)


class LDLSolve(ArrayFunction):
    """X with A X = B from A's LDL factors; no derivative (as in PyTorch)."""
    supports_complex = True

    @staticmethod
    def forward(ctx, LD, pivots, B, hermitian):
        xp = get_array_module(B)
        ld, piv = to_host(LD), to_host(pivots)
        count = math.prod(ld.shape[:-2])
        flat_ld, flat_piv = ld.reshape(count, *ld.shape[-2:]), piv.reshape(count, ld.shape[-1])
        h = hermitian and ld.dtype.kind == "c"
        A = np.zeros(flat_ld.shape, ld.dtype)
        for b in range(count):
            A[b] = _rebuild(flat_ld[b], flat_piv[b], h)
        A = xp.asarray(A.reshape(ld.shape))
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        return xp.linalg.solve(xp.broadcast_to(A, batch + A.shape[-2:]),
                               xp.broadcast_to(B, batch + B.shape[-2:])).astype(B.dtype)

    @staticmethod
    def backward(ctx, grad_x):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


def ldl_solve(LD, pivots, B, *, hermitian=False):
    """X with A X = B, A given by ``ldl_factor``'s (LD, pivots), as ``torch.linalg.ldl_solve``."""
    op = "torch.linalg.ldl_solve"
    check_square(LD, op)
    check_float(B, op)
    if B.ndim < 2:
        raise RuntimeError(f"{op}: Expected B to have at least 2 dimensions, but it has "
                           f"{B.ndim} dimensions instead")
    if LD.dtype != B.dtype:
        raise RuntimeError(f"{op}: Expected LD and B to have the same dtype, but got LD with "
                           f"dtype {LD.dtype} and B with dtype {B.dtype} instead")
    if pivots.dtype.kind not in "iu" or tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(f"{op}: Expected pivots of an integer dtype and shape "
                           f"{tuple(LD.shape[:-1])}, got {pivots.dtype} {tuple(pivots.shape)}")
    if B.shape[-2] != LD.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation AX = B "
                           f"({LD.shape[-2]}x{LD.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    return LDLSolve.apply(LD, pivots, B, bool(hermitian))

