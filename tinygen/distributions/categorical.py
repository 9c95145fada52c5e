"""The categorical distribution over K classes 0 .. K-1."""

import math
from functools import cached_property

import numpy as np

from tinygen.creation import full
from tinygen.ops import broadcast_to, clamp, gather, logsumexp, multinomial, softmax
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, clamp_probs, one_of


class Categorical(Distribution):
    """Categorical over the last dimension of ``probs`` (normalised to sum to 1) or ``logits``
    (normalised so that logsumexp is 0), as in PyTorch; the batch shape is the rest."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        one_of(probs, logits)
        param = broadcast_all(probs if probs is not None else logits)[0]
        if param.ndim < 1:
            raise ValueError("`probs` or `logits` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = param / param.sum(-1, keepdim=True)
        else:
            self.logits = param - logsumexp(param, -1, keepdim=True)
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], validate_args=validate_args)

    @cached_property
    def probs(self):
        return softmax(self.logits, -1)

    @cached_property
    def logits(self):
        return clamp_probs(self.probs).log()

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return full(self.batch_shape, math.nan, dtype=self.probs.dtype, device=self.probs.device)

    @property
    def variance(self):
        return self.mean

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def param_shape(self):
        return self.batch_shape + (self._num_events,)

    def sample(self, sample_shape=()):
        """Class indices (int64) of shape ``sample_shape + batch_shape`` (no gradient)."""
        n = math.prod(sample_shape)
        rows = self.probs.detach().reshape(-1, self._num_events)
        draws = multinomial(rows, n, replacement=True)        # (rows, n)
        return draws.T.reshape(tuple(sample_shape) + self.batch_shape)

    def log_prob(self, value):
        """log p[value], broadcasting ``value`` against the batch shape."""
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(value.shape), self.param_shape)
        log_pmf = broadcast_to(self.logits, shape)
        value = broadcast_to(value, shape[:-1] + (1,))
        return gather(log_pmf, -1, value).squeeze(-1)

    def entropy(self):
        """-sum p log p (a zero probability adds 0, not nan)."""
        logits = clamp(self.logits, min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)
