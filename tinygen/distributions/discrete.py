"""Counting distributions: Poisson, Geometric, Binomial, OneHotCategorical and Multinomial, as
in ``torch.distributions``. Samples are drawn outside the graph (none has ``rsample``)."""

import math
from functools import cached_property

import numpy as np

from tinygen import backend, generator as generators
from tinygen.autograd import no_grad
from tinygen.creation import arange, rand
from tinygen.nn.functional import one_hot
from tinygen.ops import broadcast_to, clamp, lgamma, poisson, sigmoid, where, xlogy
from tinygen.tensor import Tensor
from . import constraints
from .bernoulli import softplus
from .categorical import Categorical
from .distribution import Distribution, broadcast_all, clamp_probs, one_of


class _Discrete(Distribution):
    """Shared helpers: validation of values, and ``sample`` through ``_sample`` (no graph)."""

    def _check(self, value):
        if self._validate_args:
            self._validate_sample(value)

    def sample(self, sample_shape=()):
        with no_grad():
            return self._sample(tuple(sample_shape))


class _ProbsOrLogits(_Discrete):
    """A distribution given by ``probs`` or ``logits`` (elementwise), the other derived."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}

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

    @cached_property
    def probs(self):
        return sigmoid(self.logits)

    @cached_property
    def logits(self):
        p = clamp_probs(self.probs)
        return p.log() - (-p).log1p()


class Poisson(_Discrete):
    """rate^k exp(-rate) / k! on k = 0, 1, 2, ..."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def _sample(self, sample_shape):
        return poisson(broadcast_to(self.rate, self._extended_shape(sample_shape)))

    def log_prob(self, value):
        self._check(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - lgamma(value + 1)


class Geometric(_ProbsOrLogits):
    """The number of failures before the first success: (1 - p)^k p on k = 0, 1, 2, ..."""

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

    def _sample(self, sample_shape):
        tiny = float(np.finfo(self.probs.dtype).tiny)
        u = clamp(_rand(self._extended_shape(sample_shape), self.probs), min=tiny)
        return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        self._check(value)
        value, probs = broadcast_all(value, self.probs)
        probs = where((probs == 1) & (value == 0), 0.0, probs)   # 0 * log 0 is 0 here
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return (softplus(self.logits) - self.probs * self.logits) / self.probs


def _rand(shape, like):
    return rand(shape, dtype=like.dtype, device=like.device)


class Binomial(_ProbsOrLogits):
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

    def _sample(self, sample_shape):
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


class OneHotCategorical(OverCategorical, _Discrete):
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

    def _sample(self, sample_shape):
        index = self._categorical.sample(sample_shape)
        return one_hot(index, self.event_shape[-1]).to(self.probs.dtype)

    def log_prob(self, value):
        self._check(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()


class _MultinomialSupport(constraints.Constraint):
    """Nonnegative integer counts summing to at most ``upper_bound`` (the last dimension)."""

    is_discrete, event_dim = True, 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return (value >= 0).all(-1) & (value.sum(-1) <= self.upper_bound)


class Multinomial(OneHotCategorical):
    """Counts of ``total_count`` categorical draws over the last dimension."""

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        super().__init__(probs, logits, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return _MultinomialSupport(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def mode(self):
        raise NotImplementedError("Multinomial does not implement mode")

    def _sample(self, sample_shape):
        index = self._categorical.sample((self.total_count,) + sample_shape)
        counts = one_hot(index, self.event_shape[-1]).to(self.probs.dtype)
        return counts.sum(0)

    def log_prob(self, value):
        """log n! - sum log x_i! + sum x_i log p_i (0 log 0 counts as 0)."""
        self._check(value)
        logits, value = broadcast_all(self.logits, value)
        logits = where((value == 0) & (logits == -math.inf), 0.0, logits)
        return lgamma(value.sum(-1) + 1) - lgamma(value + 1).sum(-1) + (logits * value).sum(-1)

    def entropy(self):
        """n H(categorical) - log n! + sum_i E[log x_i!], x_i ~ Binomial(n, p_i)."""
        n = self.total_count
        values = arange(n + 1, dtype=self.probs.dtype, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * (len(self.batch_shape) + 1))
        binomial = Binomial(n, self.probs, validate_args=False)
        weights = binomial.log_prob(values).exp() * lgamma(values + 1)
        return n * self._categorical.entropy() - math.lgamma(n + 1) + weights.sum((0, -1))


__all__ = ["Binomial", "Geometric", "Multinomial", "OneHotCategorical", "Poisson"]
