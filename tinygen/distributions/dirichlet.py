"""The Dirichlet distribution on the simplex: normalised Gamma draws."""

import numpy as np

from tinygen.ops import clamp, digamma, lgamma, xlogy
from . import constraints
from .distribution import Distribution
from .standard_gamma import standard_gamma


class Dirichlet(Distribution):
    """Density prod_i x_i^(c_i - 1) / B(c) on the simplex (the last dimension)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

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

    def rsample(self, sample_shape=()):
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
