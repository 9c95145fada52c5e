"""``linalg.eig`` and ``linalg.eigvals``: eigen-decomposition of general square matrices, with
complex results (complex64 for float32 / complex64 input, complex128 for float64 / complex128).

Forward is NumPy's ``linalg.eig`` on the host (CuPy has no general eigensolver). Backward is
PyTorch's linalg_eig_backward (FunctionsManual.cpp), written in tensor ops so that it
differentiates again:

    gA = V^-H (diag(gL) + (V^H gV - V^H V diag(Re(V^H gV)_ii)) / conj(L_j - L_i)) V^H

Eigenvectors are normalized to norm 1 but only defined up to a phase e^{i phi} per column, so
a loss that depends on that phase has no gradient: as PyTorch, backward raises when the
imaginary part of diag(V^H gV) is not (about) zero. A real input gets the real part of gA.
"""

from collections import namedtuple

import numpy as np

from tinygen import dtypes
from tinygen.autograd.function import ArrayFunction, note_complex
from tinygen.backend import get_array_module
from tinygen.ops.complex_ops import conj, imag, real
from tinygen.ops.linalg_common import check_square, to_host
from tinygen.ops.shape import unsqueeze
from tinygen.tensor import Tensor

EigResult = namedtuple("eig", ["eigenvalues", "eigenvectors"])


def eye_mask(n, dtype, like):
    """The (n, n) identity as a constant tensor of dtype on like's device."""
    return Tensor(get_array_module(like.array).eye(n, dtype=dtype))


def matrix_diagonal(X):
    """The diagonal of each matrix of X, by a mask (ops with complex-correct backwards)."""
    return (X * eye_mask(X.shape[-1], X.dtype, X)).sum(-1)


def diagonal_matrix(d):
    """The square matrices with diagonal d (..., n)."""
    return unsqueeze(d, -2) * eye_mask(d.shape[-1], d.dtype, d)


def check_phase_invariant(VhgV, op):
    """PyTorch's check that the loss does not depend on the eigenvectors' phases."""
    diag = imag(matrix_diagonal(VhgV)).array
    if not bool(get_array_module(diag).allclose(diag, 0, rtol=1e-2, atol=1e-2)):
        raise RuntimeError(f"{op}: The eigenvectors in the complex case are specified up to "
                           f"multiplication by e^{{i phi}}. The specified loss function depends "
                           f"on this quantity, so it is ill-defined.")


def check_svd_phases(UhgU, VhgV):
    """PyTorch's check that the loss does not depend on the singular vectors' phases."""
    xp = get_array_module(UhgU.array)
    u, v = imag(matrix_diagonal(UhgU)).array, imag(matrix_diagonal(VhgV)).array
    if not bool(xp.allclose(u, -v, rtol=1e-2, atol=1e-2)):
        raise RuntimeError("svd_backward: The singular vectors in the complex case are "
                           "specified up to multiplication by e^{i phi}. The specified loss "
                           "function depends on this phase term, making it ill-defined.")


class Eig(ArrayFunction):
    """(L, V) with A V = V diag(L); backward as in the module docstring."""
    supports_complex = True

    @staticmethod
    def forward(ctx, A):
        xp = get_array_module(A)
        cdtype = dtypes.to_complex(A.dtype) if A.dtype.kind == "f" else A.dtype
        L, V = np.linalg.eig(to_host(A))
        L, V = xp.asarray(L.astype(cdtype)), xp.asarray(V.astype(cdtype))
        ctx.real_input = A.dtype.kind == "f"
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        Vh = conj(V.mT)
        if gV is None:
            if gL is None:
                return None
            gA = _solve(Vh, unsqueeze(gL, -1) * Vh)
        else:
            VhgV = Vh @ gV
            check_phase_invariant(VhgV, "linalg_eig_backward")
            VhgV = VhgV - Vh @ (V * unsqueeze(real(matrix_diagonal(VhgV)), -2))
            Lc = conj(L)
            eye = eye_mask(L.shape[-1], L.dtype, L)
            ret = VhgV / (unsqueeze(Lc, -2) - unsqueeze(Lc, -1) + eye)    # diag divided by 1
            if gL is not None:
                ret = ret - diagonal_matrix(matrix_diagonal(ret)) + diagonal_matrix(gL)
            gA = _solve(Vh, ret @ Vh)
        return real(gA) if ctx.real_input else gA


def _solve(A, B):
    from tinygen.ops.linalg_inverse import Solve
    return Solve.apply(A, B, False)


def _check(A, op):
    check_square(A, op)
    if A.dtype.kind == "c":
        return
    if A.dtype not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                           f"Got {A.dtype}")


def eig(A):
    """(eigenvalues, eigenvectors) of each square matrix of A, both complex, as
    ``torch.linalg.eig``: A V = V diag(L), columns of V of norm 1, in LAPACK geev's order."""
    _check(A, "linalg.eig")
    note_complex()
    return EigResult(*Eig.apply(A))


def eigvals(A):
    """The (complex) eigenvalues of each square matrix of A, as ``torch.linalg.eigvals``."""
    _check(A, "linalg.eigvals")
    note_complex()
    return Eig.apply(A)[0]
