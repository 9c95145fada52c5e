"""The multivariate normal N(loc, Sigma), given by ``covariance_matrix``, ``precision_matrix``
or ``scale_tril`` (the Cholesky factor L of Sigma = L L^T). Everything is computed from L:
samples loc + L eps, and densities through triangular solves."""

import math
from functools import cached_property

import numpy as np

from tinygen import linalg
from tinygen.creation import randn
from tinygen.ops import broadcast_to, cholesky_inverse
from . import constraints
from .distribution import Distribution


def batch_mahalanobis(scale_tril, x):
    """||L^{-1} x||^2 over the last dimension (batch dimensions broadcast)."""
    shape = np.broadcast_shapes(tuple(scale_tril.shape[:-2]), tuple(x.shape[:-1]))
    n = x.shape[-1]
    L = broadcast_to(scale_tril, shape + (n, n))
    y = linalg.solve_triangular(L, broadcast_to(x, shape + (n,)).unsqueeze(-1), upper=False)
    return (y.squeeze(-1) ** 2).sum(-1)


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over the last dimension of ``loc``; exactly one of ``covariance_matrix``,
    ``precision_matrix`` and ``scale_tril`` is given, the others derived on first use."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        matrix = given[0]
        if matrix.dim() < 2:
            name = ("covariance_matrix" if covariance_matrix is not None else
                    "precision_matrix" if precision_matrix is not None else "scale_tril")
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             f"leading batch dimensions")
        batch_shape = np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        n = loc.shape[-1]
        matrix = broadcast_to(matrix, batch_shape + (n, n))
        if scale_tril is not None:
            self.scale_tril = matrix
        elif covariance_matrix is not None:
            self.covariance_matrix = matrix
        else:
            self.precision_matrix = matrix
        self.loc = broadcast_to(loc, batch_shape + (n,))
        super().__init__(batch_shape, (n,), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        n = self.event_shape[0]
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.loc = broadcast_to(self.loc, batch_shape + (n,))
        for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
            if name in self.__dict__:
                new.__dict__[name] = broadcast_to(self.__dict__[name], batch_shape + (n, n))
        new.batch_shape = batch_shape
        return new

    @cached_property
    def scale_tril(self):
        if "covariance_matrix" in self.__dict__:
            return linalg.cholesky(self.covariance_matrix)
        return linalg.cholesky(linalg.inv(self.precision_matrix))

    @cached_property
    def covariance_matrix(self):
        return self.scale_tril @ self.scale_tril.transpose(-2, -1)

    @cached_property
    def precision_matrix(self):
        return cholesky_inverse(self.scale_tril)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (self.scale_tril ** 2).sum(-1)

    def _half_log_det(self):
        return self.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def rsample(self, sample_shape=()):
        """loc + L eps with eps ~ N(0, I)."""
        eps = randn(self._extended_shape(sample_shape), dtype=self.loc.dtype,
                    device=self.loc.device)
        return self.loc + (self.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        """-(n log(2 pi) + (x - mu)^T Sigma^{-1} (x - mu)) / 2 - log det L."""
        if self._validate_args:
            self._validate_sample(value)
        m = batch_mahalanobis(self.scale_tril, value - self.loc)
        return -0.5 * (self.event_shape[0] * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        """n (1 + log(2 pi)) / 2 + log det L."""
        h = 0.5 * self.event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return broadcast_to(h, self.batch_shape) if self.batch_shape else h
