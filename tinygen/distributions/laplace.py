"""The Laplace (double exponential) distribution."""

import numpy as np

from tinygen.ops import sign
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, uniform_noise


class Laplace(Distribution):
    """exp(-|x - loc| / scale) / (2 scale)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return 2 ** 0.5 * self.scale

    @property
    def variance(self):
        return 2 * self.scale ** 2

    def rsample(self, sample_shape=()):
        """loc - scale sign(u) log(1 - |u|), u uniform on (-1, 1)."""
        eps = float(np.finfo(self.loc.dtype).eps)
        u = 2 * uniform_noise(self, sample_shape, self.loc, eps / 2) - 1
        return self.loc - self.scale * sign(u) * (-u.abs()).log1p()

    def log_prob(self, value):
        self._check(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        self._check(value)
        z = value - self.loc
        return 0.5 - 0.5 * sign(z) * (-z.abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * sign(term) * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
