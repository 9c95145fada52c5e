"""The multinomial distribution: counts of ``total_count`` categorical draws."""

import math

from tinygen.autograd import no_grad
from tinygen.creation import arange
from tinygen.nn.functional import one_hot
from tinygen.ops import lgamma, where
from . import constraints
from .binomial import Binomial
from .one_hot_categorical import OneHotCategorical
from .utils import broadcast_all


class _MultinomialSupport(constraints.Constraint):
    """Nonnegative integer counts summing to at most ``upper_bound`` (the last dimension)."""

    is_discrete, event_dim = True, 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return (value >= 0).all(-1) & (value.sum(-1) <= self.upper_bound)


class Multinomial(OneHotCategorical):
    """Counts of ``total_count`` categorical draws over the last dimension."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        super().__init__(probs, logits, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return _MultinomialSupport(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def mode(self):
        raise NotImplementedError("Multinomial does not implement mode")

    @no_grad()
    def sample(self, sample_shape=()):
        index = self._categorical.sample((self.total_count,) + tuple(sample_shape))
        counts = one_hot(index, self.event_shape[-1]).to(self.probs.dtype)
        return counts.sum(0)

    def log_prob(self, value):
        """log n! - sum log x_i! + sum x_i log p_i (0 log 0 counts as 0)."""
        self._check(value)
        logits, value = broadcast_all(self.logits, value)
        logits = where((value == 0) & (logits == -math.inf), 0.0, logits)
        return lgamma(value.sum(-1) + 1) - lgamma(value + 1).sum(-1) + (logits * value).sum(-1)

    def entropy(self):
        """n H(categorical) - log n! + sum_i E[log x_i!], x_i ~ Binomial(n, p_i)."""
        n = self.total_count
        values = arange(n + 1, dtype=self.probs.dtype, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * (len(self.batch_shape) + 1))
        binomial = Binomial(n, self.probs, validate_args=False)
        weights = binomial.log_prob(values).exp() * lgamma(values + 1)
        return n * self._categorical.entropy() - math.lgamma(n + 1) + weights.sum((0, -1))
