"""``tg.linalg``: the linear-algebra namespace of PyTorch's ``torch.linalg``, batched over
leading dims, for float32/float64 tensors and (where PyTorch takes them and the backward is
complex-correct: ops/complex_support.py) complex64/complex128 ones. Every function is
differentiable except geqrf and the LDL ones, as in PyTorch (see the ops/linalg_*.py files for
each backward and its source)."""

from tinygen.ops.fused_products import multi_dot
from tinygen.ops.linalg import matmul
from tinygen.ops.linalg_common import LinAlgError
from tinygen.ops.linalg_decompose import (
    cholesky, cholesky_ex, eigh, eigvalsh, qr, svd, svdvals)
from tinygen.ops.linalg_exp import matrix_exp
from tinygen.ops.linalg_inverse import (
    det, inv, inv_ex, matrix_power, slogdet, solve, solve_ex, solve_triangular)
from tinygen.ops.linalg_lu import (
    lu, lu_factor, lu_factor_ex, lu_solve, tensorinv, tensorsolve)
from tinygen.ops.linalg_norms import (
    cond, cross, diagonal, lstsq, matrix_norm, matrix_rank, norm, pinv, vander, vecdot,
    vector_norm)
from tinygen.ops.linalg_eig import eig, eigvals
from tinygen.ops.linalg_householder import householder_product
from tinygen.ops.linalg_ldl import ldl_factor, ldl_factor_ex, ldl_solve

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
           "eig", "eigvals", "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor",
           "ldl_factor_ex", "ldl_solve", "lstsq", "lu",
           "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm",
           "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv",
           "tensorsolve", "vander", "vecdot", "vector_norm"]
