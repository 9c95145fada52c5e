"""``tg.linalg``: the linear-algebra namespace of PyTorch's ``torch.linalg`` for real
float32/float64 tensors, batched over leading dims. Every function is differentiable (see the
ops/linalg_*.py files for each backward and its source)."""

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
    cond, cross, diagonal, lstsq, matrix_norm, matrix_rank, norm, pinv, vander, vecdot)
from tinygen.ops.norm import vector_norm

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
           "eigvalsh", "inv", "inv_ex", "lstsq", "lu",
           "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm",
           "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv",
           "tensorsolve", "vander", "vecdot", "vector_norm"]
