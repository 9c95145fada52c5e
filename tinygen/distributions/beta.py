"""The Beta distribution on [0, 1]: X / (X + Y) for Gamma draws X and Y."""

import numpy as np

from tinygen.ops import clamp, digamma, lgamma, xlogy
from . import constraints
from .distribution import Distribution
from .standard_gamma import standard_gamma
from .utils import broadcast_all


class Beta(Distribution):
    """x^(a - 1) (1 - x)^(b - 1) / B(a, b) on [0, 1], a = concentration1, b = concentration0."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

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

    def rsample(self, sample_shape=()):
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
