"""The Poisson distribution rate^k exp(-rate) / k! on k = 0, 1, 2, ..."""

from tinygen.autograd import no_grad
from tinygen.ops import broadcast_to, lgamma, poisson, xlogy
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class Poisson(Distribution):
    """rate^k exp(-rate) / k! on k = 0, 1, 2, ..."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    @no_grad()
    def sample(self, sample_shape=()):
        return poisson(broadcast_to(self.rate, self._extended_shape(sample_shape)))

    def log_prob(self, value):
        self._check(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - lgamma(value + 1)
