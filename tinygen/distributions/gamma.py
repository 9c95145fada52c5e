"""The Gamma distribution; samples from the generator's standard-gamma draws, reparameterised
by the implicit gradient of the Gamma CDF (standard_gamma.py). Its ``cdf`` is igamma, which
Chi2 and InverseGamma (through TransformedDistribution) use too; as PyTorch, there is no icdf."""

import numpy as np

from tinygen.ops import clamp, digamma, igamma, lgamma, xlogy
from . import constraints
from .distribution import Distribution
from .standard_gamma import standard_gamma
from .utils import broadcast_all


class Gamma(Distribution):
    """x^(c - 1) exp(-r x) r^c / Gamma(c) for ``concentration`` c and ``rate`` r."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

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

    def rsample(self, sample_shape=()):
        x = standard_gamma(self.concentration, self._extended_shape(sample_shape))
        return clamp(x / self.rate, min=float(np.finfo(x.dtype).tiny))

    def log_prob(self, value):
        self._check(value)
        c, r = self.concentration, self.rate
        return xlogy(c, r) + xlogy(c - 1, value) - r * value - lgamma(c)

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + lgamma(c) + (1 - c) * digamma(c)

    def cdf(self, value):
        """P(c, r x), the regularized lower incomplete gamma function (differentiable in the
        value and the rate; as PyTorch, not in the concentration)."""
        self._check(value)
        return igamma(self.concentration, self.rate * value)
