"""The binomial distribution: successes in ``total_count`` Bernoulli trials."""

import numpy as np

from tinygen import backend, generator as generators
from tinygen.autograd import no_grad
from tinygen.creation import arange
from tinygen.ops import broadcast_to, clamp, lgamma
from tinygen.tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import ProbsOrLogits, softplus


class Binomial(ProbsOrLogits, Distribution):
    """C(n, k) p^k (1 - p)^(n - k) on k = 0 .. n, n = ``total_count``."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        values = self._set_param(probs, logits, total_count)
        self.total_count = values[1].to(values[0].dtype)
        super().__init__(self._param.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return clamp(((self.total_count + 1) * self.probs).floor(), max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @no_grad()
    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        n = broadcast_to(self.total_count, shape)
        p = broadcast_to(self.probs, shape)
        gen = generators.rng(p.device)
        draws = backend.on_device(
            lambda xp: gen.binomial(n.array.astype(np.int64), p.array), p.device)
        return Tensor(draws.astype(p.dtype))

    def log_prob(self, value):
        """log C(n, k) + k logits - n softplus(logits)."""
        self._check(value)
        n = self.total_count
        log_comb = lgamma(n + 1) - lgamma(value + 1) - lgamma(n - value + 1)
        return log_comb + value * self.logits - n * softplus(self.logits)

    def entropy(self):
        """-sum_k p(k) log p(k) over k = 0 .. n (one total_count for the whole batch)."""
        n = int(self.total_count.max().item())
        if not bool((self.total_count == n).all()):
            raise NotImplementedError("Inhomogeneous total count not supported by "
                                      "`entropy`.")
        values = arange(n + 1, dtype=self.probs.dtype, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * len(self.batch_shape))
        lp = self.log_prob(broadcast_to(values, (n + 1,) + self.batch_shape))
        return -(lp.exp() * lp).sum(0)
