"""The half-Cauchy distribution: |X| for X ~ Cauchy(0, scale)."""

import math

from tinygen.ops import atan, tan, where
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, nan_like, uniform_noise


class HalfCauchy(Distribution):
    """|X| for X ~ Cauchy(0, scale)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_all(scale)
        super().__init__(self.scale.shape, validate_args=validate_args)

    @property
    def mean(self):
        return nan_like(self.scale, math.inf)

    @property
    def mode(self):
        return self.scale * 0

    @property
    def variance(self):
        return self.mean

    def rsample(self, sample_shape=()):
        u = uniform_noise(self, sample_shape, self.scale)
        return tan(math.pi * (u - 0.5)).abs() * self.scale

    def log_prob(self, value):
        self._check(value)
        lp = math.log(2 / math.pi) - self.scale.log() - ((value / self.scale) ** 2).log1p()
        return where(value >= 0, lp, -math.inf)

    def cdf(self, value):
        self._check(value)
        return 2 * atan(value / self.scale) / math.pi

    def icdf(self, value):
        return tan(math.pi * value / 2) * self.scale

    def entropy(self):
        return math.log(2 * math.pi) + self.scale.log()
