"""Continuous relaxations of discrete draws (Maddison et al. 2017; Jang et al. 2017):
RelaxedBernoulli and RelaxedOneHotCategorical, with a ``temperature`` that makes samples
sharper as it falls. Both are logistic / Gumbel-softmax noise pushed through a sigmoid or exp,
so they have ``rsample``."""

import math

import numpy as np

from tinygen.creation import rand
from tinygen.ops import clamp, logsumexp
from . import constraints
from .bernoulli import softplus
from .categorical import Categorical
from .discrete import OverCategorical, _ProbsOrLogits
from .distribution import broadcast_all, clamp_probs
from .transformed import TransformedDistribution
from .transforms import ExpTransform, SigmoidTransform


def _uniform(shape, like):
    """Uniforms in [eps, 1 - eps], so that their logs and log1p(-u) are finite."""
    eps = float(np.finfo(like.dtype).eps)
    return clamp(rand(shape, dtype=like.dtype, device=like.device), eps, 1 - eps)


class LogitRelaxedBernoulli(_ProbsOrLogits):
    """The logit of a RelaxedBernoulli sample: (logits + logistic noise) / temperature."""

    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        values = self._set_param(probs, logits)
        self.temperature = broadcast_all(temperature, values[0])[0]
        super().__init__(self._param.shape, validate_args=validate_args)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        u = _uniform(self._extended_shape(sample_shape), self._param)
        p = clamp_probs(self.probs)
        return (u.log() - (-u).log1p() + p.log() - (-p).log1p()) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = self.logits - value * self.temperature
        return self.temperature.log() + diff - 2 * softplus(diff)


class _Relaxed(TransformedDistribution):
    """A relaxed distribution: ``transform_class()`` of a ``base_class`` distribution built from
    (temperature, probs or logits), whose parameters it shows as its own."""

    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = self.base_class(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, self.transform_class(), validate_args=False)
        self._validate_args = base._validate_args

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class RelaxedBernoulli(_Relaxed):
    """sigmoid of LogitRelaxedBernoulli(temperature, probs or logits): values in (0, 1)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    base_class, transform_class = LogitRelaxedBernoulli, SigmoidTransform


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
