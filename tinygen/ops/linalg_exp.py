"""``linalg.matrix_exp``: Padé [13/13] with scaling and squaring (Higham 2005, "The scaling and
squaring method for the matrix exponential revisited", Algorithm 2.3, degree 13 only).

Backward uses the block identity (Mathias 1996; as PyTorch): for M = [[A^H, G], [0, A^H]],
exp(M) = [[exp(A^H), L], [0, exp(A^H)]] where L is the gradient G exp'(A)^H. It is computed by
this same op, so the backward can be differentiated again.
"""

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.linalg_common import check_square
from tinygen.ops.shape import cat

_B13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
        129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
        40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def _expm(A):
    """exp of each matrix of A (..., n, n) by Padé 13; one scaling s for the whole batch."""
    xp = get_array_module(A)
    work = A.astype(np.promote_types(A.dtype, np.float64), copy=False)   # keeps complex
    norm1 = float(xp.abs(work).sum(-2).max()) if work.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm1 / _THETA13)))) if norm1 > 0 else 0
    X = work / 2.0 ** s
    b = _B13
    eye = xp.eye(A.shape[-1])
    X2 = X @ X
    X4 = X2 @ X2
    X6 = X4 @ X2
    U = X @ (X6 @ (b[13] * X6 + b[11] * X4 + b[9] * X2)
             + b[7] * X6 + b[5] * X4 + b[3] * X2 + b[1] * eye)
    V = X6 @ (b[12] * X6 + b[10] * X4 + b[8] * X2) + b[6] * X6 + b[4] * X4 + b[2] * X2 \
        + b[0] * eye
    E = xp.linalg.solve(V - U, V + U)
    for _ in range(s):
        E = E @ E
    return E.astype(A.dtype, copy=False)


class MatrixExp(ArrayFunction):
    """Y = exp(A); dA = upper-right n x n block of exp([[A^H, dY], [0, A^H]])."""
    supports_complex = True

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return _expm(A)

    @staticmethod
    def backward(ctx, grad_y):
        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        At = A.mH
        zero = At * 0
        M = cat([cat([At, grad_y], -1), cat([zero, At], -1)], -2)
        return MatrixExp.apply(M)[..., :n, n:]


def matrix_exp(A):
    """The matrix exponential of each square matrix of A (..., n, n)."""
    check_square(A, "linalg.matrix_exp", half=True)
    return MatrixExp.apply(A)
