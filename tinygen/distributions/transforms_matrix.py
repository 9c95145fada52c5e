"""The transforms of ``torch.distributions.transforms`` onto structured sets: the simplex by
stick breaking, lower Cholesky factors, positive-definite matrices and Cholesky factors of
correlation matrices. Exported from ``transforms``."""

import math

import numpy as np

from tinygen import eye, linalg
from tinygen.creation import tensor
from tinygen.nn.functional import logsigmoid, pad, softplus
from tinygen.ops import clamp, sigmoid
from . import constraints
from .transforms import Transform


def _clipped_sigmoid(x):
    finfo = np.finfo(x.dtype)
    return clamp(sigmoid(x), float(finfo.tiny), 1.0 - float(finfo.eps))


def _tril_flat_index(n, diag):
    """Row-major flat positions of the entries of an n x n matrix on or below diagonal
    ``diag`` (torch's ``tril_matrix_to_vec`` order)."""
    rows, cols = np.tril_indices(n, k=diag)
    return rows * n + cols


def tril_matrix_to_vec(mat, diag=0):
    """The entries of ``mat`` (..., n, n) on or below diagonal ``diag``, row by row."""
    n = mat.shape[-1]
    index = tensor(_tril_flat_index(n, diag), device=mat.device)
    return mat.reshape(tuple(mat.shape[:-2]) + (n * n,))[..., index]


def vec_to_tril_matrix(vec, diag=0):
    """The (..., n, n) matrix with ``vec`` below diagonal ``diag`` (row by row), zeros above."""
    m = vec.shape[-1]
    b = 1 + 2 * diag
    n = round((-b + math.sqrt(b * b + 8 * m + 4 * abs(diag) * (diag + 1))) / 2)
    flat = _tril_flat_index(n, diag)
    if len(flat) != m:
        raise ValueError(f"Incorrect vector length {m} for a lower-triangular matrix "
                         f"with diag={diag}")
    gather = np.zeros(n * n, dtype=np.int64)        # slot 0 of the padded vector holds 0
    gather[flat] = np.arange(1, m + 1)
    padded = pad(vec, (1, 0), value=0.0)
    return padded[..., tensor(gather, device=vec.device)].reshape(
        tuple(vec.shape[:-1]) + (n, n))


class StickBreakingTransform(Transform):
    """R^(K-1) onto the K-simplex: z_k = sigmoid(x_k - log(K - k)) is the fraction of what is
    left of the stick that y_k takes."""

    domain, codomain, bijective = constraints.real_vector, constraints.simplex, True

    def __eq__(self, other):
        return isinstance(other, StickBreakingTransform)

    __hash__ = object.__hash__

    @staticmethod
    def _offset(x):
        return x.shape[-1] + 1 - x.new_ones(x.shape[-1]).cumsum(-1)

    def _call(self, x):
        z = _clipped_sigmoid(x - self._offset(x).log())
        z_cumprod = (1 - z).cumprod(-1)
        return pad(z, (0, 1), value=1.0) * pad(z_cumprod, (1, 0), value=1.0)

    def _inverse(self, y):
        y_crop = y[..., :-1]
        offset = y.shape[-1] - y.new_ones(y_crop.shape[-1]).cumsum(-1)
        left = clamp(1 - y_crop.cumsum(-1), float(np.finfo(y.dtype).tiny), None)
        return y_crop.log() - left.log() + offset.log()

    def log_abs_det_jacobian(self, x, y):
        x = x - self._offset(x).log()
        # dy_k/dx_k = y_k (1 - z_k) and 1 - sigmoid(x) = exp(-x) sigmoid(x)
        return (-x + logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] - 1,)


class LowerCholeskyTransform(Transform):
    """Square matrices onto lower-triangular ones with a positive diagonal: the strict lower
    part is kept, the diagonal exponentiated."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def __eq__(self, other):
        return isinstance(other, LowerCholeskyTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(Transform):
    """Square matrices onto positive-definite ones: L L^T with L = LowerCholeskyTransform(x)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def __eq__(self, other):
        return isinstance(other, PositiveDefiniteTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(linalg.cholesky(y))


class CorrCholeskyTransform(Transform):
    """R^(D(D-1)/2) onto Cholesky factors of D x D correlation matrices: r = tanh(x) fills the
    strict lower triangle row by row, and each row is stick-broken (on r^2, sign kept) into a
    unit vector. The log-det is that of x to the flattened strict lower triangle of y."""

    domain, codomain, bijective = constraints.real_vector, constraints.corr_cholesky, True

    def __eq__(self, other):
        return isinstance(other, CorrCholeskyTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        eps = float(np.finfo(x.dtype).eps)
        r = vec_to_tril_matrix(clamp(x.tanh(), -1 + eps, 1 - eps), diag=-1)
        z1m_cumprod_sqrt = (1 - r ** 2).sqrt().cumprod(-1)
        r = r + eye(r.shape[-1], dtype=r.dtype, device=r.device)
        # y = sign(r) sqrt(z prod(1 - z)) = r sqrt(prod(1 - z)), the product over earlier z
        return r * pad(z1m_cumprod_sqrt[..., :-1], (1, 0), value=1.0)

    def _inverse(self, y):
        y_cumsum = 1 - (y * y).cumsum(-1)
        y_cumsum_shifted = pad(y_cumsum[..., :-1], (1, 0), value=1.0)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(y_cumsum_shifted, diag=-1).sqrt()
        return (t.log1p() - (-t).log1p()) / 2                # atanh

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        y1m_cumsum = 1 - (y * y).cumsum(-1)
        # diag=-2 picks the left-over stick before each strict-lower entry, unshifted
        stick_breaking_logdet = 0.5 * tril_matrix_to_vec(y1m_cumsum, diag=-2).log().sum(-1)
        tanh_logdet = -2 * (x + softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking_logdet + tanh_logdet

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return tuple(shape[:-1]) + (d, d)

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return tuple(shape[:-2]) + (d * (d - 1) // 2,)
