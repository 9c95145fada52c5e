"""Categorical draws as one-hot vectors: OneHotCategorical, and OneHotCategoricalStraightThrough,
whose rsample passes gradients straight through to the probabilities."""

from tinygen.autograd import no_grad
from tinygen.nn.functional import one_hot
from . import constraints
from .categorical import Categorical
from .distribution import Distribution


class OverCategorical(Distribution):
    """A distribution built on a ``_categorical`` (the Categorical of its probs or logits), whose
    parameters it shows as its own and expands with."""

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._categorical = self._categorical.expand(batch_shape)
        new.batch_shape = tuple(batch_shape)
        return new

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits


class OneHotCategorical(OverCategorical, Distribution):
    """Categorical draws as one-hot vectors (event shape (K,))."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=False)
        shape = self._categorical.param_shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def _check_parameters(self):
        self._categorical._check_parameters()

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return one_hot(self.probs.argmax(-1), self.event_shape[-1]).to(self.probs.dtype)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    @no_grad()
    def sample(self, sample_shape=()):
        index = self._categorical.sample(sample_shape)
        return one_hot(index, self.event_shape[-1]).to(self.probs.dtype)

    def log_prob(self, value):
        self._check(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose ``rsample`` is the straight-through estimator (Bengio et al.
    2013): the one-hot sample forward, the gradient of ``probs`` backward."""

    has_rsample = True

    def rsample(self, sample_shape=()):
        probs = self._categorical.probs          # first, so not derived under no_grad
        samples = self.sample(sample_shape)
        return samples + (probs - probs.detach())
