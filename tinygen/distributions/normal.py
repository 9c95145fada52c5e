"""The normal (Gaussian) distribution N(loc, scale^2)."""

import math

from tinygen.creation import randn
from .distribution import Distribution, broadcast_all


class Normal(Distribution):
    """N(loc, scale^2), elementwise over the broadcast shape of ``loc`` and ``scale``."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        """loc + scale * eps with eps ~ N(0, 1): differentiable in loc and scale."""
        eps = randn(self._extended_shape(sample_shape), dtype=self.loc.dtype,
                    device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        """-(value - loc)^2 / (2 scale^2) - log scale - log sqrt(2 pi)."""
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() \
            - 0.5 * math.log(2 * math.pi)

    def entropy(self):
        """1/2 + 1/2 log(2 pi) + log scale."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
