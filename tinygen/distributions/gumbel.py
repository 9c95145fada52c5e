"""The Gumbel (type-I extreme value) distribution."""

import math

import numpy as np

from tinygen.ops import clamp
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, uniform_noise

EULER = 0.57721566490153286060


class Gumbel(Distribution):
    """exp(-(z + exp(-z))) / scale with z = (x - loc) / scale."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc + self.scale * EULER

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev ** 2

    def rsample(self, sample_shape=()):
        eps = float(np.finfo(self.loc.dtype).eps)
        u = clamp(uniform_noise(self, sample_shape, self.loc), max=1 - eps)
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value):
        self._check(value)
        z = (value - self.loc) / self.scale
        return -(self.scale.log() + z + (-z).exp())

    def cdf(self, value):
        self._check(value)
        return (-(-(value - self.loc) / self.scale).exp()).exp()

    def icdf(self, value):
        return self.loc - self.scale * (-value.log()).log()

    def entropy(self):
        return self.scale.log() + (1 + EULER)
