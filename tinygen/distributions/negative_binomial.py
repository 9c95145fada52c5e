"""The negative binomial distribution: the number of successes before ``total_count`` failures,
each trial a success with probability ``probs``; sampled as PyTorch does, as a Poisson whose
rate is Gamma(total_count, exp(-logits)) distributed."""

from tinygen.autograd import no_grad
from tinygen.ops import lgamma, poisson, sigmoid, where
from tinygen.ops.activation import logsigmoid
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import ProbsOrLogits


class NegativeBinomial(ProbsOrLogits, Distribution):
    """P(k) = C(k + r - 1, k) p^k (1 - p)^r, r = total_count (real, >= 0), p = probs."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        values = self._set_param(probs, logits, total_count)
        self.total_count = values[1].to(values[0].dtype)
        super().__init__(self._param.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / sigmoid(-self.logits)

    @no_grad()
    def sample(self, sample_shape=()):
        rate = Gamma(self.total_count, (-self.logits).exp(), validate_args=False)
        return poisson(rate.sample(sample_shape))

    def log_prob(self, value):
        """log C(k + r - 1, k) + r log(1 - p) + k log p."""
        self._check(value)
        unnormalised = self.total_count * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        r = self.total_count
        empty = r + value == 0.0                  # P(0) = 1 when total_count is 0
        norm = -lgamma(where(empty, 1.0, r + value)) + lgamma(1.0 + value) \
            + lgamma(where(empty, 1.0, r))
        return unnormalised - norm
