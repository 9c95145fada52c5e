"""Factorizations: ``linalg.cholesky``, ``qr``, ``eigh``/``eigvalsh`` and ``svd``/``svdvals``.

Forward is ``xp.linalg``; backward follows PyTorch's (FunctionsManual.cpp: cholesky_backward,
linalg_qr_backward, linalg_eig_backward for Hermitian input, svd_backward), written in tensor
ops on the saved outputs so that it can be differentiated again. Complex input works as in
PyTorch: transposes become conjugate transposes, eigenvalues and singular values are real, and
a loss that depends on the phases of eigen- or singular vectors raises in backward. Eigen- and
singular vectors are unique only up to sign (phase), so only functions invariant to those signs
have gradients that finite differences can check (PyTorch's tests do the same).
"""

from collections import namedtuple

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.creation import zeros_like
from tinygen.ops.compare import where
from tinygen.ops.layout import tril
from tinygen.ops.linalg_eig import (
    check_phase_invariant, check_svd_phases, diagonal_matrix, matrix_diagonal)
from tinygen.ops.linalg_common import (
    LinAlgError, batch_prefix, check_matrix, check_square, cholesky_info, eye_like, info_tensor)
from tinygen.ops.linalg_inverse import solve_triangular
from tinygen.ops.shape import cat, unsqueeze

CholeskyExResult = namedtuple("cholesky_ex", ["L", "info"])
QRResult = namedtuple("qr", ["Q", "R"])
EighResult = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("svd", ["U", "S", "Vh"])


class Cholesky(ArrayFunction):
    """A = L L^T, L lower (only A's lower triangle is read). Backward (Murray 2016; PyTorch's
    cholesky_backward): P = tril(L^T dL), gA = L^-T (P + tril(P, -1)^T) / 2 L^-1, symmetric."""
    @staticmethod
    def forward(ctx, A, check):
        xp = get_array_module(A)
        try:
            L = xp.linalg.cholesky(A)
            failed = not bool(xp.isfinite(L).all())     # CuPy gives nan instead of raising
        except np.linalg.LinAlgError:
            failed, L = True, None
        info = cholesky_info(A) if failed else np.zeros(A.shape[:-2], np.int32)
        if failed:
            if check:
                where_, k = batch_prefix(info, A.ndim - 2)
                raise LinAlgError(
                    f"linalg.cholesky: {where_}The factorization could not be completed because "
                    f"the input is not positive-definite (the leading minor of order {k} is not "
                    f"positive-definite).")
            bad = xp.asarray(info != 0)[..., None, None]
            L = xp.linalg.cholesky(xp.where(bad, xp.eye(A.shape[-1], dtype=A.dtype), A))
            L = xp.where(bad, xp.nan, L)
        ctx.save_for_backward(L)
        return L.astype(A.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_L):
        (L,) = ctx.saved_tensors
        P = tril(L.mH @ grad_L)                                  # complex: ^T becomes ^H
        g = 0.5 * (P + tril(P, -1).mH)
        g = solve_triangular(L.mH, g, upper=True)                 # L^-H g
        return solve_triangular(L, g, upper=False, left=False), None     # (L^-H g) L^-1


def cholesky(A, *, upper=False):
    """The Cholesky factor of each symmetric positive-definite matrix of A: lower L with
    A = L L^T, or upper U = L^T with A = U^T U. Raises LinAlgError when not positive-definite."""
    check_square(A, "linalg.cholesky")
    L = Cholesky.apply(A, True)
    return L.mH if upper else L


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info) as ``torch.linalg.cholesky_ex``: info > 0 is the order of the first leading
    minor that is not positive-definite (that L is nan here); raises only if ``check_errors``."""
    check_square(A, "linalg.cholesky_ex")
    L = Cholesky.apply(A, check_errors)
    failed = bool(get_array_module(L.array).isnan(L.array).any())
    info = cholesky_info(A.array) if failed else np.zeros(A.shape[:-2], np.int32)
    return CholeskyExResult(L.mH if upper else L, info_tensor(info, A.array))


def _qr_backward_tall(gQ, gR, Q, R):
    """m >= n, reduced: M = R gR^T - gQ^T Q, gA = (gQ + Q copyltu(M)) R^-T, where copyltu
    copies the strict lower triangle of M onto the upper one (Liao et al. 2019, eq. 8). For
    complex input ^T is ^H and the diagonal of copyltu(M) is Re(M_ii) (PyTorch's syminvadj)."""
    M = R @ gR.mH - gQ.mH @ Q
    low = tril(M, -1)
    diag = tril(M) - low
    sym = low + low.mH + 0.5 * (diag + diag.mH)
    return solve_triangular(R.mH, gQ + Q @ sym, upper=False, left=False)     # X R^-H


class QR(ArrayFunction):
    """A = Q R with orthonormal columns of Q and upper-triangular R."""
    @staticmethod
    def forward(ctx, A, mode):
        Q, R = get_array_module(A).linalg.qr(A, mode=mode)
        ctx.mode = mode
        ctx.save_for_backward(Q, R)
        return Q.astype(A.dtype, copy=False), R.astype(A.dtype, copy=False)

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        m, n = Q.shape[-2], R.shape[-1]
        if m >= n:
            if ctx.mode == "complete" and m > n:
                raise RuntimeError("The QR decomposition is not differentiable when "
                                   "mode='complete' and nrows > ncols.")
            return _qr_backward_tall(gQ, gR, Q, R), None
        # m < n: A = [X | Y] with X = Q U square, R = [U | V], V = Q^T Y
        U, gU, gV = R[..., :, :m], gR[..., :, :m], gR[..., :, m:]
        Y = Q @ R[..., :, m:]
        gX = _qr_backward_tall(gQ + Y @ gV.mH, gU, Q, U)
        return cat([gX, Q @ gV], -1), None


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R, as ``torch.linalg.qr``; mode 'reduced' (Q is m x k, k = min(m, n)),
    'complete' (Q is m x m) or 'r' (R only; Q is an empty tensor, as in PyTorch; this R carries
    no gradient, where PyTorch raises in backward)."""
    check_matrix(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    if mode == "r":
        from tinygen.tensor import Tensor
        _, R = QR.apply(A.detach(), "reduced")
        xp = get_array_module(A.array)
        return QRResult(Tensor(xp.zeros((0,), dtype=A.dtype)), R)
    return QRResult(*QR.apply(A, mode))


def _real_dtype(dtype):
    """float32 for complex64, float64 for complex128; a real dtype as it is."""
    return np.dtype(dtype.char.lower()) if dtype.kind == "c" else dtype


def _off_diagonal_inverse(E):
    """1 / E off the diagonal, 0 on it (where E is 0 by construction)."""
    eye = eye_like(E).array.astype(bool)
    return where(eye, 0, 1 / where(eye, 1, E))


class Eigh(ArrayFunction):
    """A = V diag(L) V^T for symmetric A (one triangle read, by UPLO). Backward (PyTorch's
    linalg_eig_backward, Hermitian case): gA = V (diag(gL) + F * skew(V^T gV) / 2) V^T with
    F_ij = 1 / (L_j - L_i), F_ii = 0; skew(X) = X - X^T."""
    @staticmethod
    def forward(ctx, A, uplo):
        L, V = get_array_module(A).linalg.eigh(A, UPLO=uplo)
        ctx.save_for_backward(L, V)
        return L.astype(_real_dtype(A.dtype), copy=False), V.astype(A.dtype, copy=False)

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        inner = diagonal_matrix(gL.to(V.dtype))
        if ctx.needs_input_grad[0]:
            VhgV = V.mH @ gV
            if V.dtype.kind == "c":
                check_phase_invariant(VhgV, "linalg_eigh_backward")
            F = _off_diagonal_inverse(unsqueeze(L, -2) - unsqueeze(L, -1))
            inner = inner + F * (VhgV - VhgV.mH) * 0.5
        return V @ inner @ V.mH, None


def eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric matrix of A, reading
    its lower (UPLO='L') or upper ('U') triangle, as ``torch.linalg.eigh``."""
    check_square(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return EighResult(*Eigh.apply(A, UPLO))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of each symmetric matrix of A."""
    return eigh(A, UPLO).eigenvalues


class SVD(ArrayFunction):
    """A = U diag(S) Vh. Backward: PyTorch's svd_backward, real case. With full_matrices the
    extra columns of U / rows of Vh are not unique, so only the first k = min(m, n) carry a
    gradient (as in PyTorch)."""
    @staticmethod
    def forward(ctx, A, full_matrices):
        U, S, Vh = get_array_module(A).linalg.svd(A, full_matrices=full_matrices)
        ctx.save_for_backward(U, S, Vh)
        ctx.set_materialize_grads(False)        # None for unused outputs (svdvals: U and Vh)
        S = S.astype(_real_dtype(A.dtype), copy=False)        # real, also for complex A
        return U.astype(A.dtype, copy=False), S, Vh.astype(A.dtype, copy=False)

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        m, n = U.shape[-2], Vh.shape[-1]
        k = S.shape[-1]
        U, Vh = U[..., :k], Vh[..., :k, :]
        gS = zeros_like(S) if gS is None else gS
        gS = gS.to(U.dtype) if U.dtype.kind == "c" else gS
        if gU is None and gVh is None:     # S alone: no 1 / (s_i^2 - s_j^2), so repeated
            return U @ diagonal_matrix(gS) @ Vh, None     # singular values are fine (PyTorch)
        gU = zeros_like(U) if gU is None else gU[..., :k]
        gVh = zeros_like(Vh) if gVh is None else gVh[..., :k, :]
        V, gV = Vh.mH, gVh.mH
        UtgU, VtgV = U.mH @ gU, V.mH @ gV
        UtgU, VtgV = UtgU - UtgU.mH, VtgV - VtgV.mH              # skew parts
        S2 = S * S
        F = _off_diagonal_inverse(unsqueeze(S2, -2) - unsqueeze(S2, -1))
        inner = (UtgU * unsqueeze(S, -2) + unsqueeze(S, -1) * VtgV) * F + diagonal_matrix(gS)
        if U.dtype.kind == "c":             # the phases: PyTorch's check and diagonal term
            check_svd_phases(UtgU, VtgV)
            inner = inner + diagonal_matrix(matrix_diagonal(UtgU) / (2 * S))
        if m > n:          # gA = [U inner + (I - U U^T) gU S^-1] V^T
            gUSinv = gU / unsqueeze(S, -2)
            return (U @ inner + gUSinv - U @ (U.mH @ gUSinv)) @ Vh, None
        if m < n:          # gA = U [inner V^T + S^-1 gV^T (I - V V^T)]
            SinvgVh = gVh / unsqueeze(S, -1)
            return U @ (inner @ Vh + SinvgVh - (SinvgVh @ V) @ Vh), None
        return U @ inner @ Vh, None


def svd(A, full_matrices=True):
    """(U, S, Vh) with A = U diag(S) Vh, S descending, as ``torch.linalg.svd``."""
    check_matrix(A, "linalg.svd")
    return SVDResult(*SVD.apply(A, bool(full_matrices)))


def svdvals(A):
    """The singular values of each matrix of A, descending."""
    check_matrix(A, "linalg.svdvals")
    return SVD.apply(A, False)[1]
