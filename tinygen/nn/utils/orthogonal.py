"""``nn.utils.parametrizations.orthogonal``: a weight (or batch of matrices) kept orthogonal,
computed from an unconstrained tensor, as PyTorch's. A wide (m, n) weight gets orthonormal rows
(it is handled transposed); the maps below build an (n, k) Q, n >= k, with orthonormal columns:

- ``matrix_exp``: Q = exp(A)[:, :k], A = L - L^H skew-symmetric, L the lower part of X padded
  with zeros to (n, n);
- ``cayley``: Q = (I - A/2)^-1 (I + A/2), same A;
- ``householder``: Q = H_1 ... H_k, the reflectors stored below X's diagonal (with tau =
  2 / (1 + |v|^2), so each H_i is a true reflection) times the integer part of X's diagonal.

With ``use_trivialization=True`` (Lezcano-Casado 2019, dynamic trivialization) the module also
keeps a buffer ``base`` and the weight is ``base @ Q``: assigning a weight stores it (completed
to a square orthogonal matrix by QR) in ``base`` and sets the original to the X for which Q is
the identity's first columns, so the weight starts at the assigned value.
"""

import enum

import numpy as np

from tinygen import creation
from tinygen.autograd.grad_mode import no_grad
from tinygen.backend import get_array_module
from tinygen.nn.module import Module
from tinygen.nn.utils.parametrize import register_parametrization
from tinygen.ops.linalg_exp import matrix_exp
from tinygen.ops.linalg_householder import geqrf, householder_product
from tinygen.ops.linalg_inverse import solve
from tinygen.ops.shape import cat
from tinygen.tensor import Tensor



def _is_orthogonal(Q):
    """Q^H Q == I to 10 n eps (atol) and allclose's default rtol, as PyTorch checks it."""
    n, k = Q.shape[-2], Q.shape[-1]
    eye = creation.eye(k, dtype=Q.dtype, device=Q.device)
    eps = 10.0 * n * float(np.finfo(Q.array.dtype).eps)
    return (Q.mH @ Q).allclose(eye, atol=eps)


def _make_orthogonal(A):
    """The Q of A = Q R (A tall) with diag(R) real and non-negative: LAPACK's geqrf and orgqr,
    then each column's sign flipped as R's diagonal entry."""
    X, tau = geqrf(A)
    Q = householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _set_diagonal(A, new):
    """Set the diagonal d of each matrix of A, in place, to new(d, xp)."""
    xp = get_array_module(A.array)
    i = xp.arange(min(A.shape[-2], A.shape[-1]))
    A.array[..., i, i] = new(A.array[..., i, i], xp)


class _OrthMaps(enum.Enum):
    matrix_exp = enum.auto()
    cayley = enum.auto()
    householder = enum.auto()


class _Orthogonal(Module):
    """The parametrization: ``forward(X)`` is the orthogonal weight; ``right_inverse(Q)`` the X
    (and, with trivialization, the ``base``) that gives back Q."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:                                      # pad to (..., n, n) with zeros
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH                                    # skew-symmetric (skew-Hermitian)
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:
                eye = creation.eye(n, dtype=A.dtype, device=A.device)
                Q = solve(eye + A * -0.5, eye + A * 0.5)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q):
        if tuple(Q.shape) != tuple(self.shape):
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            A, tau = geqrf(Q)
            # reflectors as Q's; the diagonal's signs (flipped where tau = 0: no reflection)
            # are the +-1 that forward multiplies the columns by
            _set_diagonal(A, lambda d, xp: xp.sign(d) * xp.where(tau.array == 0.0, -1, 1))
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:                                  # complete the k columns to an (n, n) basis
            N = creation.randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype,
                               device=Q.device)
            Q = _make_orthogonal(cat([Q, N], dim=-1))
        self.base = Q
        neg_eye = creation.zeros_like(Q_init)        # Q(neg_eye) = I: the weight starts at Q
        _set_diagonal(neg_eye, lambda d, xp: -1.0)
        return neg_eye


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Make ``module.<name>`` orthogonal (orthonormal columns if tall, rows if wide; each matrix
    of a batch); returns ``module``. ``orthogonal_map``: "matrix_exp", "cayley" or
    "householder"; default "matrix_exp" for square or complex weights, else "householder"."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    register_parametrization(module, name, orth, unsafe=True)
    return module
