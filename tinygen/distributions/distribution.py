"""The Distribution base class and the helpers its subclasses share."""

import numbers

import numpy as np

from tinygen import dtypes
from tinygen.autograd import no_grad
from tinygen.creation import tensor
from tinygen.ops import broadcast_to, clamp
from tinygen.tensor import Tensor


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


def one_of(probs, logits):
    """Check that exactly one of ``probs`` and ``logits`` was given."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class Distribution:
    """A batch of distributions of shape ``batch_shape``, each over events of ``event_shape``.
    Samples have shape ``sample_shape + batch_shape + event_shape``. ``validate_args`` is
    accepted and ignored: tinygen does not check parameters or values."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self.batch_shape = tuple(batch_shape)
        self.event_shape = tuple(event_shape)

    def _extended_shape(self, sample_shape=()):
        return tuple(sample_shape) + self.batch_shape + self.event_shape

    def sample(self, sample_shape=()):
        """A sample outside the graph (no gradient flows to the parameters)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampler "
                                  "(rsample); use sample()")

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not define log_prob")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__} does not define entropy")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={self.batch_shape}, " \
               f"event_shape={self.event_shape})"
