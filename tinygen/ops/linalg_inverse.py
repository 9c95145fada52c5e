"""Inverses, determinants and linear solves: ``linalg.inv``, ``det``, ``slogdet``, ``solve``,
``solve_triangular``, ``matrix_power`` and the ``*_ex`` forms that return LAPACK's ``info``.

Forward calls ``xp.linalg`` on the whole batch; backward is written with these same ops
(Giles 2008, "Collected matrix derivative results", section 2.2), so it differentiates again.
"""

import math
from collections import namedtuple

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.complex_ops import conj
from tinygen.ops.layout import tril, triu
from tinygen.ops.linalg_common import (
    LinAlgError, batch_prefix, check_float, check_same_dtype, check_square, eye_like,
    info_tensor, lu_info)
from tinygen.ops.shape import squeeze, unsqueeze
from tinygen.tensor import Tensor

SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])
InvExResult = namedtuple("inv_ex", ["inverse", "info"])
SolveExResult = namedtuple("solve_ex", ["result", "info"])


def _inverse(a):
    """(inverse of each matrix of a, info); singular matrices (info > 0) give nan."""
    xp = get_array_module(a)
    try:
        y = xp.linalg.inv(a)
        if bool(xp.isfinite(y).all()):              # CuPy does not raise: check its result
            return y, np.zeros(a.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        pass
    info = lu_info(a)
    bad = xp.asarray(info != 0)[..., None, None]
    y = xp.linalg.inv(xp.where(bad, xp.eye(a.shape[-1], dtype=a.dtype), a))
    return xp.where(bad, xp.nan, y).astype(a.dtype, copy=False), info


def _raise_singular(info, batch_ndim, op, pivot_message):
    if np.any(info):
        where, k = batch_prefix(info, batch_ndim)
        if pivot_message:
            raise LinAlgError(f"{op}: {where}The diagonal element {k} is zero, the inversion "
                              f"could not be completed because the input matrix is singular.")
        raise LinAlgError(f"{op}: {where}The solver failed because the input matrix is "
                          f"singular.")


class Inv(ArrayFunction):
    """Y = A^-1;  dA = -Y^T dY Y^T (Giles 2008, eq. 2.2.1), from the output Y alone."""
    @staticmethod
    def forward(ctx, A, check):
        y, info = _inverse(A)
        if check:
            _raise_singular(info, A.ndim - 2, "linalg.inv", True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        yh = y.mH                                   # complex: -Y^H dY Y^H
        return -(yh @ grad_y @ yh), None


def inv(A):
    """The inverse of each square matrix of A (..., n, n); raises LinAlgError when singular."""
    check_square(A, "linalg.inv")
    return Inv.apply(A, True)


def inv_ex(A, *, check_errors=False):
    """(inverse, info) as ``torch.linalg.inv_ex``: info[i] > 0 marks a singular matrix (its
    inverse is nan here), and nothing is raised unless ``check_errors``."""
    check_square(A, "linalg.inv_ex")
    y = Inv.apply(A, check_errors)
    return InvExResult(y, info_tensor(_info_if_nan(y, A), A.array))


def _info_if_nan(result, A):
    """The LU info of A, looked for only where the result shows a failure (a nan)."""
    xp = get_array_module(result.array)
    if bool(xp.isnan(result.array).any()):
        return lu_info(A.array)
    return np.zeros(A.shape[:-2], np.int32)


class Det(ArrayFunction):
    """d = det(A);  dA = g d A^-T (Giles 2008, eq. 2.2.4). A singular A has no A^-1; then, as
    PyTorch does, the adjugate comes from the SVD A = U S V^T: dA = g det(U V^T) U diag(prod of
    the other singular values) V^T."""
    @staticmethod
    def forward(ctx, A):
        d = get_array_module(A).linalg.det(A).astype(A.dtype, copy=False)
        ctx.save_for_backward(A, d)
        return d

    @staticmethod
    def backward(ctx, grad_d):
        A, d = ctx.saved_tensors
        if bool((d.array == 0).any()):
            return _adjugate_t(A) * unsqueeze(unsqueeze(grad_d, -1), -1)
        scale = unsqueeze(unsqueeze(grad_d * conj(d), -1), -1)
        return scale * inv(A).mH


def _adjugate_t(A):
    """adj(A)^T = d det(A) / dA from the SVD, defined for singular A too."""
    from tinygen.ops.compare import where
    from tinygen.ops.linalg_decompose import svd
    U, S, Vh = svd(A)
    xp = get_array_module(A.array)
    sign = xp.conj(xp.linalg.det(U.array) * xp.linalg.det(Vh.array))   # |sign| = 1
    eye = xp.eye(A.shape[-1], dtype=bool)
    others = where(Tensor(eye), 1, unsqueeze(S, -2)).prod(-1)   # prod over j != i of s_j
    return (U * unsqueeze(others * Tensor(sign[..., None]), -2)) @ Vh


def det(A):
    """The determinant of each square matrix of A (..., n, n), shape (...)."""
    check_square(A, "linalg.det")
    return Det.apply(A)


class Slogdet(ArrayFunction):
    """(sign, log|det A|), logabsdet real for complex A;  dA = g A^-H with
    g = g_logabsdet + i Im(conj(sign) g_sign) (PyTorch's slogdet_backward: a real sign is
    piecewise constant, so as in PyTorch it requires grad but its gradient is zero, and a
    gradient through it alone leaves A's .grad None)."""
    supports_complex = True

    @staticmethod
    def forward(ctx, A):
        xp = get_array_module(A)
        sign, logabsdet = xp.linalg.slogdet(A)
        sign = xp.asarray(sign).astype(A.dtype, copy=False)   # saved: the output itself
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(A, sign)
        real = np.dtype(A.dtype.char.lower()) if A.dtype.kind == "c" else A.dtype
        return sign, logabsdet.astype(real, copy=False)

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        from tinygen.ops.complex_ops import imag
        A, sign = ctx.saved_tensors
        complex_sign = grad_sign is not None and A.dtype.kind == "c"
        if grad_logabsdet is None and not complex_sign:
            return None
        g = 0 if grad_logabsdet is None else grad_logabsdet
        if complex_sign:
            g = g + 1j * imag(conj(sign) * grad_sign)
        return unsqueeze(unsqueeze(g, -1), -1) * inv(A).mH


def slogdet(A):
    """(sign, logabsdet) of det(A), a named tuple as ``torch.linalg.slogdet``: accurate where
    det itself would under- or overflow. For complex A the sign is complex of modulus 1."""
    check_square(A, "linalg.slogdet")
    return SlogdetResult(*Slogdet.apply(A))


def logdet(A):
    """log det(A) as ``torch.logdet``: for real A nan for a negative determinant (with a zero
    gradient, as PyTorch), -inf for zero; for complex A log(sign) + logabsdet."""
    from tinygen.ops.compare import where
    from tinygen.ops.elementwise import log
    check_square(A, "logdet")
    sign, logabsdet = slogdet(A)
    if A.dtype.kind == "c":
        return log(sign) + logabsdet
    return where(sign < 0, math.nan, logabsdet)


class Solve(ArrayFunction):
    """X = A^-1 B for matrices B (..., n, k), batch dims broadcast;
    dB = A^-T dX,  dA = -dB X^T (Giles 2008, eq. 2.2.3)."""
    @staticmethod
    def forward(ctx, A, B, check):
        xp = get_array_module(A)
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])    # CuPy does not broadcast
        a = xp.broadcast_to(A, batch + A.shape[-2:])
        b = xp.broadcast_to(B, batch + B.shape[-2:])
        info = None
        try:
            x = xp.linalg.solve(a, b)
            if not bool(xp.isfinite(x).all()):      # CuPy does not raise
                info = lu_info(A)
        except np.linalg.LinAlgError:
            info = lu_info(A)
        if info is not None and np.any(info):
            if check:
                _raise_singular(info, A.ndim - 2, "torch.linalg.solve", False)
            bad = xp.asarray(info != 0)[..., None, None]
            x = xp.where(bad, xp.nan, xp.linalg.solve(xp.where(bad, xp.eye(A.shape[-1]), a), b))
        x = x.astype(A.dtype, copy=False)
        ctx.save_for_backward(A, x)
        return x

    @staticmethod
    def backward(ctx, grad_x):
        A, x = ctx.saved_tensors
        grad_b = Solve.apply(A.mH, grad_x, False)
        grad_a = -(grad_b @ x.mH) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b, None


def _is_vector_rhs(A, B):
    """PyTorch's rule: B is a (batch of) vectors when 1-D, or when its shape is A's minus one
    trailing dim."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def _solve(A, B, left, check, op):
    check_square(A, op)
    check_float(B, op)
    check_same_dtype(A, B, op)
    if not left:                                # X A = B  <=>  A^T X^T = B^T
        return _solve(A.mT, B.mT, True, check, op).mT
    vector = _is_vector_rhs(A, B)
    B2 = unsqueeze(B, -1) if vector else B
    if B2.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    x = Solve.apply(A, B2, check)
    return squeeze(x, -1) if vector else x


def solve(A, B, *, left=True):
    """X with A X = B (or X A = B when not ``left``), batch dims broadcast; B may be a vector."""
    return _solve(A, B, left, True, "torch.linalg.solve")


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info) as ``torch.linalg.solve_ex``: info > 0 marks a singular A (result nan)."""
    x = _solve(A, B, left, check_errors, "torch.linalg.solve_ex")
    return SolveExResult(x, info_tensor(_info_if_nan(x, A), A.array))


def _triangle(a, upper, unitriangular):
    xp = get_array_module(a)
    t = xp.triu(a) if upper else xp.tril(a)
    if unitriangular:
        n = a.shape[-1]
        t = t * (1 - xp.eye(n, dtype=a.dtype)) + xp.eye(n, dtype=a.dtype)
    return t


class SolveTriangular(ArrayFunction):
    """X = T^-1 B for the triangle T of A (the other half of A is never read);
    dB = T^-T dX,  dA = triangle(-dB X^T) (strictly so when unitriangular)."""
    @staticmethod
    def forward(ctx, A, B, upper, unitriangular):
        ctx.upper, ctx.unit = upper, unitriangular
        xp = get_array_module(A)
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        T = xp.broadcast_to(_triangle(A, upper, unitriangular), batch + A.shape[-2:])
        x = xp.linalg.solve(T, xp.broadcast_to(B, batch + B.shape[-2:]))
        x = x.astype(A.dtype, copy=False)
        ctx.save_for_backward(A, x)
        return x

    @staticmethod
    def backward(ctx, grad_x):
        A, x = ctx.saved_tensors
        upper, unit = ctx.upper, ctx.unit
        grad_b = SolveTriangular.apply(A.mH, grad_x, not upper, unit)
        grad_a = None
        if ctx.needs_input_grad[0]:
            g = -(grad_b @ x.mH)
            k = 1 if unit else 0
            grad_a = triu(g, k) if upper else tril(g, -k)
        return grad_a, grad_b, None, None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with T X = B (X T = B when not ``left``), T the upper or lower triangle of A (with
    ones on the diagonal when ``unitriangular``); B is a matrix, batch dims broadcast."""
    op = "linalg.solve_triangular"
    check_square(A, op)
    check_float(B, op)
    check_same_dtype(A, B, op)
    if B.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    if not left:
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    if B.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    return SolveTriangular.apply(A, B, bool(upper), bool(unitriangular))


class IdentityOf(ArrayFunction):
    """I shaped as A, in A's graph with a zero gradient: ``matrix_power(A, 0)`` as PyTorch's."""
    @staticmethod
    def forward(ctx, A):
        xp = get_array_module(A)
        return xp.broadcast_to(xp.eye(A.shape[-1], dtype=A.dtype), A.shape).copy()

    @staticmethod
    def backward(ctx, grad_y):
        from tinygen.creation import zeros_like
        return zeros_like(grad_y)


def matrix_power(A, n):
    """A^n by repeated squaring (n an int; negative n inverts A first, n = 0 gives I)."""
    check_square(A, "linalg.matrix_power")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:
        return IdentityOf.apply(A) if A.requires_grad else eye_like(A).expand(*A.shape)
    base = inv(A) if n < 0 else A
    n, result = abs(int(n)), None
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result
