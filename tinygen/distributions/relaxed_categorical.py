"""RelaxedOneHotCategorical (the Gumbel-softmax): Gumbel noise added to the logits, divided by a
``temperature`` and pushed through a softmax, so it has ``rsample``."""

import math

import numpy as np

from tinygen.ops import clamp, logsumexp
from . import constraints
from .categorical import Categorical
from .one_hot_categorical import OverCategorical
from .relaxed_bernoulli import _Relaxed, _uniform
from .transforms import ExpTransform
from .utils import broadcast_all


class ExpRelaxedCategorical(OverCategorical):
    """The log of a RelaxedOneHotCategorical sample: log softmax((logits + Gumbel) / t)."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        self.temperature = broadcast_all(temperature, self._categorical.logits[..., 0])[0]
        shape = self._categorical.param_shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def _check_parameters(self):
        pass                               # the Categorical checked them

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        tiny = float(np.finfo(self.logits.dtype).tiny)
        u = clamp(_uniform(self._extended_shape(sample_shape), self.logits), min=tiny)
        scores = (self.logits - (-u.log()).log()) / self.temperature
        return scores - logsumexp(scores, -1, keepdim=True)

    def log_prob(self, value):
        """lgamma(K) + (K - 1) log t + sum_k (s_k - logsumexp s), s = logits - t value."""
        if self._validate_args:
            self._validate_sample(value)
        k = self.event_shape[0]
        log_scale = math.lgamma(k) + (k - 1) * self.temperature.log()
        score = self.logits - value * self.temperature
        score = (score - logsumexp(score, -1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(_Relaxed):
    """exp of ExpRelaxedCategorical: points on the simplex (the Gumbel-softmax)."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.simplex
    base_class, transform_class = ExpRelaxedCategorical, ExpTransform
