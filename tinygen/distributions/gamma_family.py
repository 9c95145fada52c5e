"""Gamma, Chi2, Beta, Dirichlet and StudentT (a normal with a Gamma-distributed precision):
densities from lgamma/digamma, samples from the generator's standard-gamma draws
(Marsaglia-Tsang), reparameterised as PyTorch's by the implicit gradient of the Gamma CDF
(standard_gamma.py); Beta and Dirichlet are normalised Gamma draws."""

import math

import numpy as np

from tinygen.creation import randn

from tinygen.ops import broadcast_to, clamp, digamma, lgamma, where, xlogy
from . import constraints
from .distribution import Distribution, broadcast_all
from .standard_gamma import StandardGamma


def standard_gamma(alpha, shape):
    """Gamma(alpha, 1) draws of ``shape`` (alpha broadcast to it), differentiable in alpha."""
    x = StandardGamma.apply(broadcast_to(alpha, shape))
    return clamp(x, min=float(np.finfo(alpha.dtype).tiny))


class _Gammaish(Distribution):
    """``rsample`` through ``_sample``; values validated in log_prob."""

    has_rsample = True

    def rsample(self, sample_shape=()):
        return self._sample(tuple(sample_shape))

    def _check(self, value):
        if self._validate_args:
            self._validate_sample(value)


class Gamma(_Gammaish):
    """x^(c - 1) exp(-r x) r^c / Gamma(c) for ``concentration`` c and ``rate`` r."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return clamp((self.concentration - 1) / self.rate, min=0)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def _sample(self, sample_shape):
        x = standard_gamma(self.concentration, self._extended_shape(sample_shape))
        return clamp(x / self.rate, min=float(np.finfo(x.dtype).tiny))

    def log_prob(self, value):
        self._check(value)
        c, r = self.concentration, self.rate
        return xlogy(c, r) + xlogy(c - 1, value) - r * value - lgamma(c)

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + lgamma(c) + (1 - c) * digamma(c)


class Chi2(Gamma):
    """Gamma(df / 2, 1 / 2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    @property
    def df(self):
        return self.concentration * 2

    def expand(self, batch_shape, _instance=None):
        return Chi2(broadcast_to(self.df, tuple(batch_shape)), validate_args=False)


class Dirichlet(_Gammaish):
    """Density prod_i x_i^(c_i - 1) / B(c) on the simplex (the last dimension)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(c - 1) / (c0 - k) where every c_i > 1 (the clamped form elsewhere)."""
        cm1 = clamp(self.concentration - 1, min=0)
        return cm1 / cm1.sum(-1, keepdim=True)

    @property
    def variance(self):
        c0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (c0 - self.concentration) / (c0 ** 2 * (c0 + 1))

    def _sample(self, sample_shape):
        x = standard_gamma(self.concentration, self._extended_shape(sample_shape))
        x = x / x.sum(-1, keepdim=True)
        eps = float(np.finfo(x.dtype).tiny)
        return clamp(x, eps, 1 - float(np.finfo(x.dtype).eps))

    def log_prob(self, value):
        self._check(value)
        c = self.concentration
        return xlogy(c - 1, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    def entropy(self):
        c = self.concentration
        k, a0 = c.shape[-1], c.sum(-1)
        return lgamma(c).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) \
            - ((c - 1) * digamma(c)).sum(-1)


class Beta(_Gammaish):
    """x^(a - 1) (1 - x)^(b - 1) / B(a, b) on [0, 1], a = concentration1, b = concentration0."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        return (a - 1) / (a + b - 2)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def _sample(self, sample_shape):
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration1, shape)
        y = standard_gamma(self.concentration0, shape)
        eps = float(np.finfo(x.dtype).eps)
        return clamp(x / (x + y), float(np.finfo(x.dtype).tiny), 1 - eps)

    def log_prob(self, value):
        self._check(value)
        a, b = self.concentration1, self.concentration0
        return xlogy(a - 1, value) + xlogy(b - 1, 1 - value) \
            + lgamma(a + b) - lgamma(a) - lgamma(b)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return lgamma(a) + lgamma(b) - lgamma(a + b) - (a - 1) * digamma(a) \
            - (b - 1) * digamma(b) + (a + b - 2) * digamma(a + b)


class StudentT(_Gammaish):
    """Student's t with ``df`` degrees of freedom, shifted by loc and scaled by scale."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    @property
    def mean(self):
        return where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        v = self.scale ** 2 * self.df / (self.df - 2)
        return where(self.df > 2, v, where(self.df > 1, math.inf, math.nan))

    def rsample(self, sample_shape=()):
        """loc + scale X / sqrt(Z / df), X ~ N(0, 1), Z ~ Chi2(df) (reparameterised)."""
        shape = self._extended_shape(sample_shape)
        x = randn(shape, dtype=self.df.dtype, device=self.df.device)
        z = Chi2(self.df).rsample(sample_shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def log_prob(self, value):
        self._check(value)
        y = (value - self.loc) / self.scale
        z = self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) \
            + lgamma(0.5 * self.df) - lgamma(0.5 * (self.df + 1))
        return -0.5 * (self.df + 1) * (y ** 2 / self.df).log1p() - z

    def entropy(self):
        lbeta = lgamma(0.5 * self.df) + math.lgamma(0.5) - lgamma(0.5 * (self.df + 1))
        return self.scale.log() + 0.5 * (self.df + 1) * (
            digamma(0.5 * (self.df + 1)) - digamma(0.5 * self.df)) + 0.5 * self.df.log() + lbeta
