"""The Wishart distribution W(df, Sigma) over p x p positive-definite matrices, as
``torch.distributions.Wishart``: X = L A A^T L^T with Sigma = L L^T and A lower triangular,
A_ii = sqrt(chi2(df - i)) and A_ij ~ N(0, 1) below the diagonal (the Bartlett decomposition),
so samples are differentiable in L and, through the chi-square's rsample, in df."""

import math
import numbers
import warnings
from functools import cached_property

import numpy as np

from tinygen import linalg
from tinygen.creation import arange, eye, randn, tensor
from tinygen.ops import broadcast_to, cholesky_solve, clamp, digamma, flip, mvlgamma, where
from . import constraints
from .exp_family import ExponentialFamily
from .transforms_matrix import vec_to_tril_matrix

_LOG_2 = math.log(2)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of P^{-1} without forming the inverse (torch's route)."""
    Lf = linalg.cholesky(flip(P, (-2, -1)))
    L_inv = flip(Lf, (-2, -1)).transpose(-2, -1)
    identity = eye(P.shape[-1], dtype=P.dtype, device=P.device)
    return linalg.solve_triangular(L_inv, identity, upper=False)


def _mvdigamma(x, p):
    """The multivariate digamma: sum_i digamma(x - i/2) for i < p."""
    if not bool((x > (p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    return digamma(x.unsqueeze(-1) - arange(p, dtype=x.dtype, device=x.device) / 2).sum(-1)


class Wishart(ExponentialFamily):
    """W(df, Sigma) from ``df`` > p - 1 and exactly one of ``covariance_matrix`` (Sigma),
    ``precision_matrix`` (Sigma^{-1}) and ``scale_tril`` (L, Sigma = L L^T)."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or "
                                 "scale_tril may be specified.")
        param = given[0]
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, numbers.Number):
            batch_shape = tuple(param.shape[:-2])
            self.df = tensor(df, dtype=param.dtype, device=param.device)
        else:
            batch_shape = np.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape))
            self.df = broadcast_to(df, batch_shape)
        event_shape = tuple(param.shape[-2:])
        p = event_shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        matrix = broadcast_to(param, batch_shape + event_shape)
        name = ("scale_tril" if scale_tril is not None else
                "covariance_matrix" if covariance_matrix is not None else "precision_matrix")
        self.__dict__[name] = matrix
        if bool((self.df < p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur "
                          "for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._chi2()

    def _chi2(self):
        """chi2(df - i) for the i-th diagonal entry of the Bartlett factor."""
        from tinygen.distributions import Chi2
        L = self._unbroadcasted_scale_tril
        p = self.event_shape[-1]
        return Chi2(self.df.unsqueeze(-1) - arange(p, dtype=L.dtype, device=L.device),
                    validate_args=False)

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        shape = batch_shape + self.event_shape
        new.df = broadcast_to(self.df, batch_shape)
        for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
            if name in self.__dict__:
                new.__dict__[name] = broadcast_to(self.__dict__[name], shape)
        new.batch_shape = batch_shape
        new._dist_chi2 = new._chi2()
        return new

    @cached_property
    def scale_tril(self):
        return broadcast_to(self._unbroadcasted_scale_tril, self.batch_shape + self.event_shape)

    @cached_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return broadcast_to(L @ L.transpose(-2, -1), self.batch_shape + self.event_shape)

    @cached_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        identity = eye(self.event_shape[-1], dtype=L.dtype, device=L.device)
        return broadcast_to(cholesky_solve(identity, L), self.batch_shape + self.event_shape)

    def _df_matrix(self):
        return self.df.reshape(self.batch_shape + (1, 1))

    @property
    def mean(self):
        return self._df_matrix() * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self.event_shape[-1] - 1
        factor = where(factor <= 0, math.nan, factor)
        return factor.reshape(self.batch_shape + (1, 1)) * self.covariance_matrix

    @property
    def variance(self):
        V = self.covariance_matrix
        d = V.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix() * (V ** 2 + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape=()):
        p = self.event_shape[-1]
        L = self._unbroadcasted_scale_tril
        eps = float(np.finfo(L.dtype).eps)
        diag = clamp(self._dist_chi2.rsample(sample_shape).sqrt(), eps, None).diag_embed()
        below = randn(tuple(sample_shape) + self.batch_shape + (p * (p - 1) // 2,),
                      dtype=L.dtype, device=L.device)
        chol = L @ (diag + vec_to_tril_matrix(below, diag=-1))
        return chol @ chol.transpose(-2, -1)

    def rsample(self, sample_shape=(), max_try_correction=None):
        """A Bartlett sample; singular ones (possible for df near p - 1) are redrawn up to
        ``max_try_correction`` (10) times, and may remain (log_prob is then -inf)."""
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample = self._bartlett_sampling(sample_shape)
        singular = ~self.support.check(sample)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                fresh = self._bartlett_sampling(sample_shape)
                sample = where(singular.unsqueeze(-1).unsqueeze(-1), fresh, sample)
                singular = ~self.support.check(sample)
                if not bool(singular.any()):
                    break
        return sample

    def _log_det_scale(self):
        """p log(2) / 2 + log det L."""
        L = self._unbroadcasted_scale_tril
        return self.event_shape[-1] * _LOG_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        """-(nu / 2)(p log 2 + log det Sigma) - log Gamma_p(nu / 2)
        + (nu - p - 1) / 2 log det X - tr(Sigma^{-1} X) / 2."""
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self.event_shape[-1]
        trace = cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(
            dim1=-2, dim2=-1).sum(-1)
        return (-nu * self._log_det_scale() - mvlgamma(nu / 2, p)
                + (nu - p - 1) / 2 * linalg.slogdet(value).logabsdet - trace / 2)

    def entropy(self):
        nu, p = self.df, self.event_shape[-1]
        return ((p + 1) * self._log_det_scale() + mvlgamma(nu / 2, p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)

    @property
    def _natural_params(self):
        return -self.precision_matrix / 2, (self.df - self.event_shape[-1] - 1) / 2

    def _log_normalizer(self, x, y):
        p = self.event_shape[-1]
        return (y + (p + 1) / 2) * (-linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p) + \
            mvlgamma(y + (p + 1) / 2, p)
