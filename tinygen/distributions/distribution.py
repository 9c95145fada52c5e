"""The Distribution base class and the helpers its subclasses share."""

from functools import cached_property

from tinygen.autograd import no_grad
from tinygen.ops import broadcast_to
from tinygen.tensor import Tensor
from . import constraints


class Distribution:
    """A batch of distributions of shape ``batch_shape``, each over events of ``event_shape``.
    Samples have shape ``sample_shape + batch_shape + event_shape``. With ``validate_args``
    (on by default, as in PyTorch; ``Distribution.set_default_validate_args(False)`` turns it
    off) parameters are checked against ``arg_constraints`` and log_prob's values against
    ``support``, raising PyTorch's ValueError."""

    has_rsample = False
    has_enumerate_support = False
    arg_constraints = {}
    support = None
    _validate_args = True

    @staticmethod
    def set_default_validate_args(value):
        """Turn validation on or off for distributions built without ``validate_args``."""
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self.batch_shape = tuple(batch_shape)
        self.event_shape = tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self):
        for name, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if name not in self.__dict__ and \
                    isinstance(getattr(type(self), name, None), cached_property):
                continue                         # a lazily derived parameter: not given
            value = getattr(self, name)
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {name} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                    f"{constraint!r}, but found invalid values:\n{value}")

    def _validate_sample(self, value):
        """PyTorch's checks of a value given to log_prob: a tensor, of a shape that broadcasts,
        inside the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = len(value.shape) - len(self.event_shape)
        if tuple(value.shape[event_dim_start:]) != self.event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{tuple(value.shape)} vs {self.event_shape}.")
        actual, expected = tuple(value.shape), self.batch_shape + self.event_shape
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{actual} vs {expected}.")
        support = self.support
        if support is None or constraints.is_dependent(support):
            return
        if not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {actual}) to be "
                f"within the support ({support!r}) of the distribution {self!r}, but found "
                f"invalid values:\n{value}")

    def _check(self, value):
        """``_validate_sample(value)`` when validation is on."""
        if self._validate_args:
            self._validate_sample(value)

    def expand(self, batch_shape, _instance=None):
        """A view of this distribution with a larger ``batch_shape`` (parameters broadcast)."""
        batch_shape = tuple(batch_shape)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name in self.arg_constraints:
            value = self.__dict__.get(name)
            if isinstance(value, Tensor):
                event = tuple(value.shape[len(self.batch_shape):])
                new.__dict__[name] = broadcast_to(value, batch_shape + event)
        new.batch_shape = batch_shape
        return new

    def _extended_shape(self, sample_shape=()):
        return tuple(sample_shape) + self.batch_shape + self.event_shape

    def sample(self, sample_shape=()):
        """A sample outside the graph (no gradient flows to the parameters)."""
        with no_grad():
            return self.rsample(sample_shape)

    def sample_n(self, n):
        return self.sample((n,))

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampler "
                                  "(rsample); use sample()")

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not define log_prob")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not define cdf")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not define icdf")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__} does not define entropy")

    def perplexity(self):
        return self.entropy().exp()

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        params = [p for p in self.arg_constraints if p in self.__dict__]
        if not params:
            return f"{type(self).__name__}()"
        parts = []
        for p in params:
            v = self.__dict__[p]
            parts.append(f"{p}: {v if v.numel() == 1 else v.size()}")
        return f"{type(self).__name__}({', '.join(parts)})"


__all__ = ["Distribution"]
