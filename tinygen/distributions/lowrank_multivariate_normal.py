"""The multivariate normal with a low-rank-plus-diagonal covariance Sigma = W W^T + diag(D), W of
shape n x m with m << n. Densities use the capacitance matrix K = I + W^T D^-1 W (m x m) through
the Woodbury identity and the matrix determinant lemma, so nothing n x n is factorised."""

import math

import numpy as np

from tinygen import linalg
from tinygen.creation import eye, randn
from tinygen.ops import broadcast_to, diag_embed
from . import constraints
from .distribution import Distribution
from .multivariate_normal import batch_mahalanobis
from .utils import lazy_property


def _capacitance_tril(w, d):
    """cholesky(I + W^T D^-1 W)."""
    m = w.shape[-1]
    k = (w.transpose(-2, -1) / d.unsqueeze(-2)) @ w
    return linalg.cholesky(k + eye(m, dtype=w.dtype, device=w.device))


def _lowrank_logdet(d, cap_tril):
    """log det Sigma = log det K + sum log D (the matrix determinant lemma)."""
    return 2 * cap_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + d.log().sum(-1)


def _lowrank_mahalanobis(w, d, x, cap_tril):
    """x^T Sigma^-1 x = x^T D^-1 x - ||L_K^-1 W^T D^-1 x||^2 (Woodbury)."""
    wt_dinv_x = ((w.transpose(-2, -1) / d.unsqueeze(-2)) @ x.unsqueeze(-1)).squeeze(-1)
    return (x ** 2 / d).sum(-1) - batch_mahalanobis(cap_tril, wt_dinv_x)


class LowRankMultivariateNormal(Distribution):
    """N(loc, cov_factor cov_factor^T + diag(cov_diag)) over the last dimension of ``loc``."""

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional leading "
                             "batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            batch = np.broadcast_shapes(tuple(loc.shape[:-1]), tuple(cov_factor.shape[:-2]),
                                        tuple(cov_diag.shape[:-1]))
        except ValueError as e:
            raise ValueError(f"Incompatible batch shapes: loc {tuple(loc.shape)}, cov_factor "
                             f"{tuple(cov_factor.shape)}, cov_diag {tuple(cov_diag.shape)}") from e
        self.loc = broadcast_to(loc, batch + event_shape)
        self.cov_diag = broadcast_to(cov_diag, batch + event_shape)
        self.cov_factor = broadcast_to(cov_factor, batch + tuple(cov_factor.shape[-2:]))
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        super().__init__(batch, event_shape, validate_args=validate_args)   # checks cov_diag first
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name in ("variance", "scale_tril", "covariance_matrix", "precision_matrix"):
            new.__dict__.pop(name, None)
        shape = batch_shape + self.event_shape
        new.loc = broadcast_to(self.loc, shape)
        new.cov_diag = broadcast_to(self.cov_diag, shape)
        new.cov_factor = broadcast_to(self.cov_factor, shape + tuple(self.cov_factor.shape[-1:]))
        new.batch_shape = batch_shape
        return new

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    def _matrix_shape(self):
        return self.batch_shape + self.event_shape + self.event_shape

    @lazy_property
    def variance(self):
        v = (self._unbroadcasted_cov_factor ** 2).sum(-1) + self._unbroadcasted_cov_diag
        return broadcast_to(v, self.batch_shape + self.event_shape)

    @lazy_property
    def scale_tril(self):
        """sqrt(D) cholesky(I + D^-1/2 W W^T D^-1/2)."""
        n = self.event_shape[0]
        d_sqrt = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        w = self._unbroadcasted_cov_factor / d_sqrt
        k = w @ w.transpose(-2, -1) + eye(n, dtype=w.dtype, device=w.device)
        return broadcast_to(d_sqrt * linalg.cholesky(k), self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        w = self._unbroadcasted_cov_factor
        cov = w @ w.transpose(-2, -1) + diag_embed(self._unbroadcasted_cov_diag)
        return broadcast_to(cov, self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        """D^-1 - A^T A with A = L_K^-1 W^T D^-1 (Woodbury)."""
        d = self._unbroadcasted_cov_diag
        wt_dinv = self._unbroadcasted_cov_factor.transpose(-2, -1) / d.unsqueeze(-2)
        a = linalg.solve_triangular(self._capacitance_tril, wt_dinv, upper=False)
        precision = diag_embed(d.reciprocal()) - a.transpose(-2, -1) @ a
        return broadcast_to(precision, self._matrix_shape())

    def rsample(self, sample_shape=()):
        """loc + W eps_W + sqrt(D) eps_D."""
        shape = self._extended_shape(sample_shape)
        eps_w = randn(shape[:-1] + tuple(self.cov_factor.shape[-1:]), dtype=self.loc.dtype,
                      device=self.loc.device)
        eps_d = randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        w_eps = (self._unbroadcasted_cov_factor @ eps_w.unsqueeze(-1)).squeeze(-1)
        return self.loc + w_eps + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def log_prob(self, value):
        self._check(value)
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        m = _lowrank_mahalanobis(w, d, value - self.loc, self._capacitance_tril)
        log_det = _lowrank_logdet(d, self._capacitance_tril)
        return -0.5 * (self.event_shape[0] * math.log(2 * math.pi) + log_det + m)

    def entropy(self):
        log_det = _lowrank_logdet(self._unbroadcasted_cov_diag, self._capacitance_tril)
        h = 0.5 * (self.event_shape[0] * (1.0 + math.log(2 * math.pi)) + log_det)
        return broadcast_to(h, self.batch_shape) if self.batch_shape else h
