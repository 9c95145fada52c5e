"""RelaxedBernoulli (Maddison et al. 2017; Jang et al. 2017): a continuous relaxation of a
Bernoulli draw whose ``temperature`` makes samples sharper as it falls; logistic noise pushed
through a sigmoid, so it has ``rsample``."""

import numpy as np

from tinygen.creation import rand
from tinygen.ops import clamp
from . import constraints
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import ProbsOrLogits, broadcast_all, clamp_probs, softplus


def _uniform(shape, like):
    """Uniforms in [eps, 1 - eps], so that their logs and log1p(-u) are finite."""
    eps = float(np.finfo(like.dtype).eps)
    return clamp(rand(shape, dtype=like.dtype, device=like.device), eps, 1 - eps)


class LogitRelaxedBernoulli(ProbsOrLogits, Distribution):
    """The logit of a RelaxedBernoulli sample: (logits + logistic noise) / temperature."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
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
