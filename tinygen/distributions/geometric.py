"""The geometric distribution: failures before the first success."""

import numpy as np

from tinygen.autograd import no_grad
from tinygen.creation import rand
from tinygen.ops import clamp, where
from . import constraints
from .distribution import Distribution
from .utils import ProbsOrLogits, broadcast_all, softplus


class Geometric(ProbsOrLogits, Distribution):
    """The number of failures before the first success: (1 - p)^k p on k = 0, 1, 2, ..."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._set_param(probs, logits)
        super().__init__(self._param.shape, validate_args=validate_args)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return self.probs * 0

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    @no_grad()
    def sample(self, sample_shape=()):
        tiny = float(np.finfo(self.probs.dtype).tiny)
        u = clamp(rand(self._extended_shape(sample_shape), dtype=self.probs.dtype,
                           device=self.probs.device), min=tiny)
        return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        self._check(value)
        value, probs = broadcast_all(value, self.probs)
        probs = where((probs == 1) & (value == 0), 0.0, probs)   # 0 * log 0 is 0 here
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return (softplus(self.logits) - self.probs * self.logits) / self.probs
