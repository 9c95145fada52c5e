"""PyTorch's top-level linear-algebra functions (``torch.det``, ``torch.inverse``,
``torch.svd``, ...), which are also Tensor methods. Most are ``torch.linalg`` functions under
an older name; ``qr`` and ``svd`` keep the old ``some=`` argument, and ``svd`` returns V rather
than Vh, as in PyTorch."""

from collections import namedtuple

from tinygen.backend import get_array_module
from tinygen.ops.linalg_common import check_matrix, check_same_dtype, eye_like
from tinygen.ops.linalg_decompose import cholesky as _cholesky, qr as _qr, svd as _svd
from tinygen.ops.linalg_exp import matrix_exp
from tinygen.ops.linalg_inverse import det, inv, logdet, matrix_power, slogdet, solve_triangular
from tinygen.ops.linalg_norms import pinv
from tinygen.tensor import Tensor

__all__ = ["det", "logdet", "slogdet", "inverse", "pinverse", "matrix_power", "matrix_exp",
           "cholesky", "cholesky_solve", "cholesky_inverse", "qr", "svd"]

OldSVDResult = namedtuple("svd", ["U", "S", "V"])


def inverse(input):
    """``torch.inverse``: ``linalg.inv``."""
    return inv(input)


def pinverse(input, rcond=1e-15):
    """``torch.pinverse``: ``linalg.pinv`` with singular values below rcond * s_max dropped."""
    return pinv(input, rtol=rcond)


def cholesky(input, upper=False):
    """``torch.cholesky`` (deprecated there in favour of ``linalg.cholesky``)."""
    return _cholesky(input, upper=upper)


def cholesky_solve(B, L, upper=False):
    """X with A X = B, where A = L L^H (or U^H U when ``upper``) is given by its Cholesky
    factor: two triangular solves."""
    check_same_dtype(L, B, "cholesky_solve")
    if upper:
        return solve_triangular(L, solve_triangular(L.mH, B, upper=False), upper=True)
    return solve_triangular(L.mH, solve_triangular(L, B, upper=False), upper=True)


def cholesky_inverse(L, upper=False):
    """A^-1 for A = L L^H (or U^H U), from its Cholesky factor."""
    check_matrix(L, "cholesky_inverse")
    return cholesky_solve(eye_like(L).expand(*L.shape), L, upper)


def qr(input, some=True):
    """``torch.qr``: the reduced QR when ``some``, else the complete one."""
    return _qr(input, "reduced" if some else "complete")


def svd(input, some=True, compute_uv=True):
    """``torch.svd``: (U, S, V) with input = U diag(S) V^T (V, not Vh); the thin SVD when
    ``some``. Without ``compute_uv`` U and V are zero-filled (m, m) and (n, n) matrices, as in
    PyTorch."""
    U, S, Vh = _svd(input, full_matrices=not some)
    if not compute_uv:
        xp = get_array_module(input.array)
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return OldSVDResult(Tensor(xp.zeros(batch + (m, m), input.dtype)), S.detach(),
                            Tensor(xp.zeros(batch + (n, n), input.dtype)))
    return OldSVDResult(U, S, Vh.mT)
