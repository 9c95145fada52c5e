"""The half-normal distribution: |X| for X ~ N(0, scale^2)."""

import math

from tinygen.creation import randn
from tinygen.ops import where
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class HalfNormal(Distribution):
    """|X| for X ~ N(0, scale^2)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_all(scale)
        super().__init__(self.scale.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        return self.scale * 0

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def rsample(self, sample_shape=()):
        eps = randn(self._extended_shape(sample_shape), dtype=self.scale.dtype,
                    device=self.scale.device)
        return (eps * self.scale).abs()

    def log_prob(self, value):
        self._check(value)
        lp = -(value ** 2) / (2 * self.scale ** 2) - self.scale.log() \
            + 0.5 * math.log(2 / math.pi)
        return where(value >= 0, lp, -math.inf)

    def cdf(self, value):
        self._check(value)
        return (value / (self.scale * math.sqrt(2))).erf()

    def icdf(self, value):
        return self.scale * math.sqrt(2) * value.erfinv()

    def entropy(self):
        return 0.5 * math.log(math.pi / 2) + 0.5 + self.scale.log()
