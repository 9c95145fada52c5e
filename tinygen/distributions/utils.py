"""Helpers shared by the distribution families, as ``torch.distributions.utils``: broadcasting
parameters, probabilities <-> logits, clamping, lazily derived parameters, and the bits the
families share (noise for reparameterised samples, the probs-or-logits parameterisation)."""

import math
import numbers
from functools import cached_property

import numpy as np

from tinygen import dtypes
from tinygen.creation import full, rand, tensor
from tinygen.ops import broadcast_to, clamp, sigmoid, softmax
from tinygen.ops.activation import logsigmoid
from tinygen.tensor import Tensor

lazy_property = cached_property      # a parameter derived on first use (probs from logits)


def broadcast_all(*values):
    """``values`` (tensors and numbers) as tensors of one broadcast shape; numbers take the
    dtype and device of the first tensor, or the default float dtype."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise TypeError(f"expected tensors or numbers, got {type(v).__name__}")
    values = [v if isinstance(v, Tensor) else
              tensor(v, dtype=like.dtype if like is not None else dtypes.get_default_dtype(),
                     device=like.device if like is not None else None) for v in values]
    shape = np.broadcast_shapes(*(tuple(v.shape) for v in values))
    return [v if tuple(v.shape) == shape else broadcast_to(v, shape) for v in values]


def clamp_probs(probs):
    """Probabilities kept eps away from 0 and 1, so their logs stay finite."""
    eps = float(np.finfo(probs.dtype).eps)
    return clamp(probs, eps, 1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log p (a categorical's logits), or log(p / (1 - p)) with ``is_binary``."""
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits, is_binary=False):
    """softmax over the last dimension, or the sigmoid with ``is_binary``."""
    return sigmoid(logits) if is_binary else softmax(logits, -1)


def softplus(x):
    """log(1 + exp(x)) = -log sigmoid(-x), finite and exact for every x."""
    return -logsigmoid(-x)


def one_of(probs, logits):
    """Check that exactly one of ``probs`` and ``logits`` was given."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def uniform_noise(dist, sample_shape, like, low=0.0):
    """Uniforms in [low', 1) of ``dist``'s sample shape, with ``low'`` at least the float's tiny,
    so that their logs are finite."""
    u = rand(dist._extended_shape(sample_shape), dtype=like.dtype, device=like.device)
    return clamp(u, min=max(low, float(np.finfo(like.dtype).tiny)))


def nan_like(x, value=math.nan):
    """A tensor like ``x`` filled with nan (or ``value``)."""
    return full(tuple(x.shape), value, dtype=x.dtype, device=x.device)


class ProbsOrLogits:
    """Mixin for a distribution given by elementwise ``probs`` or ``logits``, the other one
    derived on first use."""

    def _set_param(self, probs, logits, *others):
        one_of(probs, logits)
        values = broadcast_all(probs if probs is not None else logits, *others)
        if probs is not None:
            self.probs = values[0]
        else:
            self.logits = values[0]
        return values

    @property
    def _param(self):
        return self.__dict__.get("probs", self.__dict__.get("logits"))

    @property
    def param_shape(self):
        return self._param.shape

    @lazy_property
    def probs(self):
        return sigmoid(self.logits)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)


__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]
