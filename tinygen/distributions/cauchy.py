"""The Cauchy (Lorentz) distribution; samples push uniform noise through tan."""

import math

from tinygen.ops import atan, tan
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, nan_like, uniform_noise


class Cauchy(Distribution):
    """1 / (pi scale (1 + ((x - loc) / scale)^2)); its mean and variance do not exist."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return nan_like(self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return nan_like(self.loc, math.inf)

    def rsample(self, sample_shape=()):
        u = uniform_noise(self, sample_shape, self.loc)
        return self.loc + tan(math.pi * (u - 0.5)) * self.scale

    def log_prob(self, value):
        self._check(value)
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z ** 2).log1p()

    def cdf(self, value):
        self._check(value)
        return atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
