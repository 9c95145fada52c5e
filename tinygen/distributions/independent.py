"""Independent: batch dimensions of a distribution reinterpreted as event dimensions."""

from . import constraints
from .distribution import Distribution


def sum_rightmost(x, n):
    """x summed over its last ``n`` dimensions."""
    return x.sum(tuple(range(-n, 0))) if n > 0 else x


class Independent(Distribution):
    """The last ``reinterpreted_batch_ndims`` batch dimensions of ``base_distribution`` become
    event dimensions: log_prob and entropy sum over them (a diagonal Normal as one multivariate
    distribution, as a VAE's latent)."""

    arg_constraints = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        n = reinterpreted_batch_ndims
        if n > len(base_distribution.batch_shape):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= "
                             f"len(base_distribution.batch_shape), actual {n} vs "
                             f"{len(base_distribution.batch_shape)}")
        shape = base_distribution.batch_shape + base_distribution.event_shape
        split = len(base_distribution.batch_shape) - n
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = n
        self.has_rsample = base_distribution.has_rsample
        super().__init__(shape[:split], shape[split:], validate_args=validate_args)

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def support(self):
        base = self.base_dist.support
        n = self.reinterpreted_batch_ndims
        return constraints.independent(base, n) if n else base

    @property
    def mode(self):
        return self.base_dist.mode

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        n = self.reinterpreted_batch_ndims
        base = self.base_dist.expand(batch_shape + self.event_shape[:n])
        return Independent(base, n, validate_args=False)

    @property
    def variance(self):
        return self.base_dist.variance

    @property
    def stddev(self):
        return self.base_dist.stddev

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self):
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)
