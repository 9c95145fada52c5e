"""Continuous distributions on the real line with closed-form densities: Uniform, Exponential,
Laplace, Cauchy, Gumbel, HalfNormal and HalfCauchy, as in ``torch.distributions``.
Each reparameterised sample pushes uniform (or normal) noise through the inverse CDF, so
gradients flow to the parameters."""

import math

import numpy as np

from tinygen.creation import full, rand, randn
from tinygen.ops import atan, clamp, sign, tan, where
from . import constraints
from .distribution import Distribution, broadcast_all

EULER = 0.57721566490153286060


def uniform_noise(dist, sample_shape, like, low=0.0):
    """Uniforms in [low', 1) of ``dist``'s sample shape, with ``low'`` at least the float's tiny,
    so that their logs are finite."""
    u = rand(dist._extended_shape(sample_shape), dtype=like.dtype, device=like.device)
    return clamp(u, min=max(low, float(np.finfo(like.dtype).tiny)))


def _nan_like(x):
    return full(tuple(x.shape), math.nan, dtype=x.dtype, device=x.device)


class _Continuous(Distribution):
    """Shared by the families here: ``_check`` validates a value when validation is on."""

    def _check(self, value):
        if self._validate_args:
            self._validate_sample(value)


class Uniform(_Continuous):
    """Uniform on [low, high)."""

    has_rsample = True

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return _nan_like(self.high)

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        u = rand(self._extended_shape(sample_shape), dtype=self.low.dtype, device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        """-log(high - low) inside [low, high), -inf outside."""
        self._check(value)
        inside = ((self.low <= value) & (self.high > value)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value):
        self._check(value)
        return clamp((value - self.low) / (self.high - self.low), 0, 1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()


class Exponential(_Continuous):
    """rate * exp(-rate * x) on x >= 0."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return self.rate * 0

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        u = uniform_noise(self, sample_shape, self.rate)
        return -u.log() / self.rate

    def log_prob(self, value):
        self._check(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        self._check(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()


class Laplace(_Continuous):
    """exp(-|x - loc| / scale) / (2 scale)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return 2 ** 0.5 * self.scale

    @property
    def variance(self):
        return 2 * self.scale ** 2

    def rsample(self, sample_shape=()):
        """loc - scale sign(u) log(1 - |u|), u uniform on (-1, 1)."""
        eps = float(np.finfo(self.loc.dtype).eps)
        u = 2 * uniform_noise(self, sample_shape, self.loc, eps / 2) - 1
        return self.loc - self.scale * sign(u) * (-u.abs()).log1p()

    def log_prob(self, value):
        self._check(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        self._check(value)
        z = value - self.loc
        return 0.5 - 0.5 * sign(z) * (-z.abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * sign(term) * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()


class Cauchy(_Continuous):
    """1 / (pi scale (1 + ((x - loc) / scale)^2)); its mean and variance do not exist."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return _nan_like(self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return full(tuple(self.loc.shape), math.inf, dtype=self.loc.dtype, device=self.loc.device)

    def rsample(self, sample_shape=()):
        u = uniform_noise(self, sample_shape, self.loc)
        return self.loc + tan(math.pi * (u - 0.5)) * self.scale

    def log_prob(self, value):
        self._check(value)
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z ** 2).log1p()

    def cdf(self, value):
        self._check(value)
        return atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()


class Gumbel(_Continuous):
    """exp(-(z + exp(-z))) / scale with z = (x - loc) / scale."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc + self.scale * EULER

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev ** 2

    def rsample(self, sample_shape=()):
        eps = float(np.finfo(self.loc.dtype).eps)
        u = clamp(uniform_noise(self, sample_shape, self.loc), max=1 - eps)
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value):
        self._check(value)
        z = (value - self.loc) / self.scale
        return -(self.scale.log() + z + (-z).exp())

    def cdf(self, value):
        self._check(value)
        return (-(-(value - self.loc) / self.scale).exp()).exp()

    def icdf(self, value):
        return self.loc - self.scale * (-value.log()).log()

    def entropy(self):
        return self.scale.log() + (1 + EULER)


class HalfNormal(_Continuous):
    """|X| for X ~ N(0, scale^2)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_all(scale)
        super().__init__(self.scale.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        return self.scale * 0

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def rsample(self, sample_shape=()):
        eps = randn(self._extended_shape(sample_shape), dtype=self.scale.dtype,
                    device=self.scale.device)
        return (eps * self.scale).abs()

    def log_prob(self, value):
        self._check(value)
        lp = -(value ** 2) / (2 * self.scale ** 2) - self.scale.log() \
            + 0.5 * math.log(2 / math.pi)
        return where(value >= 0, lp, -math.inf)

    def cdf(self, value):
        self._check(value)
        return (value / (self.scale * math.sqrt(2))).erf()

    def icdf(self, value):
        return self.scale * math.sqrt(2) * value.erfinv()

    def entropy(self):
        return 0.5 * math.log(math.pi / 2) + 0.5 + self.scale.log()


class HalfCauchy(_Continuous):
    """|X| for X ~ Cauchy(0, scale)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_all(scale)
        super().__init__(self.scale.shape, validate_args=validate_args)

    @property
    def mean(self):
        return full(tuple(self.scale.shape), math.inf, dtype=self.scale.dtype,
                    device=self.scale.device)

    @property
    def mode(self):
        return self.scale * 0

    @property
    def variance(self):
        return self.mean

    def rsample(self, sample_shape=()):
        u = uniform_noise(self, sample_shape, self.scale)
        return tan(math.pi * (u - 0.5)).abs() * self.scale

    def log_prob(self, value):
        self._check(value)
        lp = math.log(2 / math.pi) - self.scale.log() - ((value / self.scale) ** 2).log1p()
        return where(value >= 0, lp, -math.inf)

    def cdf(self, value):
        self._check(value)
        return 2 * atan(value / self.scale) / math.pi

    def icdf(self, value):
        return tan(math.pi * value / 2) * self.scale

    def entropy(self):
        return math.log(2 * math.pi) + self.scale.log()
