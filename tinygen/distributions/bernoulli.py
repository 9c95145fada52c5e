"""The Bernoulli distribution: 1 with probability p, else 0."""

from functools import cached_property

from tinygen.ops import bernoulli, broadcast_to, sigmoid
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, clamp_probs, one_of, softplus


class Bernoulli(Distribution):
    """Bernoulli(p) from ``probs`` p or ``logits`` log(p / (1 - p)); densities are computed from
    the logits (the BCE-with-logits form), so they stay finite for any logit."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        one_of(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        super().__init__(self._param.shape, validate_args=validate_args)

    @property
    def _param(self):
        """The parameter given (probs or logits); the other is derived on first use."""
        return self.__dict__.get("probs", self.__dict__.get("logits"))

    @cached_property
    def probs(self):
        return sigmoid(self.logits)

    @cached_property
    def logits(self):
        p = clamp_probs(self.probs)
        return p.log() - (-p).log1p()

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        """1 where p > 1/2, 0 where p < 1/2, nan where p = 1/2."""
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return mode.masked_fill(self.probs == 0.5, float("nan"))

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """0/1 draws in the dtype of the parameters (no gradient)."""
        probs = self.probs.detach()
        return bernoulli(broadcast_to(probs, self._extended_shape(sample_shape)))

    def log_prob(self, value):
        """value * logits - softplus(logits), which is -BCE-with-logits(logits, value)."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return value * logits - softplus(logits)

    def entropy(self):
        """softplus(logits) - probs * logits, the BCE of the distribution with itself."""
        return softplus(self.logits) - self.probs * self.logits
