"""Householder reflectors as LAPACK stores them: ``geqrf`` (the QR factorization in compact
form), ``linalg.householder_product`` (``orgqr``: the Q they make) and ``ormqr`` (Q or Q^H
times a matrix, without forming Q).

Column i of A holds reflector v_i below the diagonal (v_i has a 1 on the diagonal and zeros
above it, not stored), and H_i = I - tau_i v_i v_i^H; Q = H_1 H_2 ... H_k. The products are
written with differentiable ops (one rank-1 update per reflector), so their gradients, in A's
lower part and in tau, come from those ops and differentiate again. ``geqrf`` runs LAPACK (via
NumPy's ``qr(mode='raw')``, on the host) and has no derivative, as in PyTorch.
"""

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.complex_ops import conj
from tinygen.ops.layout import tril
from tinygen.ops.linalg_common import check_float, to_host
from tinygen.ops.shape import unsqueeze
from tinygen.tensor import Tensor


def _reflectors(A, k):
    """(..., m, k): the first k columns of A's strict lower part, with ones on the diagonal."""
    xp = get_array_module(A.array)
    eye = Tensor(xp.eye(A.shape[-2], k, dtype=A.dtype))
    return tril(A[..., :, :k], -1) + eye


def _apply_q(V, tau, C, left, adjoint):
    """op(Q) C (left) or C op(Q), op(Q) = Q^H when adjoint, one reflector at a time."""
    k = V.shape[-1]
    order = range(k) if left == adjoint else range(k - 1, -1, -1)
    for i in order:
        v = V[..., :, i:i + 1]
        t = unsqueeze(unsqueeze(tau[..., i], -1), -1)
        t = conj(t) if adjoint else t
        if left:                                          # H C = C - v (t v^H C)
            C = C - v @ (t * (conj(v.mT) @ C))
        else:                                             # C H = C - (C v t) v^H
            C = C - ((C @ v) * t) @ conj(v.mT)
    return C


def _check_tau(op, A, tau):
    check_float(A, op)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{op}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {tau.ndim} and input.ndim is equal to {A.ndim}")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{op}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {tuple(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{op}: tau dtype {tau.dtype} does not match input dtype {A.dtype}")


def householder_product(A, tau):
    """The first n columns of Q = H_1 ... H_k from A (..., m, n) and tau (..., k), m >= n >= k,
    as ``torch.linalg.householder_product`` (LAPACK orgqr)."""
    op = "torch.linalg.householder_product"
    _check_tau(op, A, tau)
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to "
                           f"input.shape[-1]")
    if n < tau.shape[-1]:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to "
                           f"tau.shape[-1]")
    xp = get_array_module(A.array)
    eye = Tensor(xp.broadcast_to(xp.eye(m, n, dtype=A.dtype), A.shape))
    if tau.shape[-1] == 0:                  # Q = I, still in A's graph (zero gradient), as PyTorch
        return eye + tril(A, -m)
    return _apply_q(_reflectors(A, tau.shape[-1]), tau, eye, True, False)


def orgqr(input, tau):
    """``torch.orgqr``: the same as ``linalg.householder_product``."""
    return householder_product(input, tau)


def ormqr(input, tau, other, left=True, transpose=False):
    """op(Q) other (``left``) or other op(Q), Q = H_1 ... H_k of the reflectors in input
    (..., mn, k) and tau, op(Q) = Q^H when ``transpose`` (LAPACK ormqr / unmqr)."""
    op = "torch.ormqr"
    _check_tau(op, input, tau)
    check_float(other, op)
    if other.dtype != input.dtype:
        raise RuntimeError(f"{op}: Expected input and other to have the same dtype, but input "
                           f"has dtype {input.dtype} and other has dtype {other.dtype}")
    if other.ndim != input.ndim or tuple(other.shape[:-2]) != tuple(input.shape[:-2]):
        raise RuntimeError(f"{op}: Expected batch dimensions of other to be equal to those of "
                           f"input, got {tuple(other.shape)} and {tuple(input.shape)}")
    side = other.shape[-2] if left else other.shape[-1]
    if input.shape[-2] != side:
        raise RuntimeError(f"{op}: other.shape[{-2 if left else -1}] must be equal to "
                           f"input.shape[-2] (got {side} and {input.shape[-2]})")
    if tau.shape[-1] > side:
        raise RuntimeError(f"{op}: tau.shape[-1] must be less than or equal to "
                           f"other.shape[{-2 if left else -1}]")
    V = _reflectors(input, tau.shape[-1])
    return _apply_q(V, tau, other, bool(left), bool(transpose))


class Geqrf(ArrayFunction):
    """(a, tau) of LAPACK geqrf; no derivative (PyTorch has none either)."""
    supports_complex = True

    @staticmethod
    def forward(ctx, A):
        xp = get_array_module(A)
        h, tau = np.linalg.qr(to_host(A), mode="raw")        # h is a^T (Fortran order)
        a = np.ascontiguousarray(np.swapaxes(h, -1, -2)).astype(A.dtype, copy=False)
        return xp.asarray(a), xp.asarray(tau.astype(A.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_a, grad_tau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def geqrf(input):
    """(a, tau) as ``torch.geqrf``: R on and above a's diagonal, the Householder reflectors
    below it, their scales in tau (for ``householder_product`` and ``ormqr``)."""
    check_float(input, "geqrf")
    if input.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    return Geqrf.apply(input)
