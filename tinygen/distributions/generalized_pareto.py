"""The generalized Pareto distribution (peaks over a threshold): survival function
(1 + xi z)^(-1/xi) with z = (x - loc) / scale, exp(-z) at xi = 0; reparameterised through its
inverse CDF."""

import math

from tinygen.creation import rand
from tinygen.ops import broadcast_to, isclose, where
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class GeneralizedPareto(Distribution):
    """GPD(loc, scale, concentration xi); bounded above by loc - scale / xi when xi < 0."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def _safe_concentration(self):
        """(xi == 0 elementwise, xi with its zeros replaced by 1)."""
        xi = self.concentration
        eq_zero = isclose(xi, xi * 0)
        return eq_zero, where(eq_zero, 1.0, xi)

    def rsample(self, sample_shape=()):
        u = rand(self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def log_prob(self, value):
        """-log scale - (1 / xi + 1) log1p(xi z), or -log scale - z at xi = 0."""
        self._check(value)
        z = (value - self.loc) / self.scale
        eq_zero, xi = self._safe_concentration()
        y = 1 / xi + 1
        nonzero = where(y == 0, y, y * (xi * z).log1p())
        return -self.scale.log() - where(eq_zero, z, nonzero)

    def log_survival_function(self, value):
        self._check(value)
        z = (value - self.loc) / self.scale
        eq_zero, xi = self._safe_concentration()
        return where(eq_zero, -z, -(xi * z).log1p() / xi)

    def log_cdf(self, value):
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        eq_zero, xi = self._safe_concentration()
        log_u = (-value).log1p()
        nonzero = self.loc + self.scale / xi * (-xi * log_u).expm1()
        return where(eq_zero, self.loc - self.scale * log_u, nonzero)

    @property
    def mean(self):
        """loc + scale / (1 - xi) for xi < 1, nan otherwise."""
        valid = self.concentration < 1
        xi = where(valid, self.concentration, 0.5)
        return where(valid, self.loc + self.scale / (1 - xi), math.nan)

    @property
    def variance(self):
        """scale^2 / ((1 - xi)^2 (1 - 2 xi)) for xi < 1/2, nan otherwise."""
        valid = self.concentration < 0.5
        xi = where(valid, self.concentration, 0.25)
        return where(valid, self.scale ** 2 / ((1 - xi) ** 2 * (1 - 2 * xi)), math.nan)

    def entropy(self):
        return broadcast_to(self.scale.log() + self.concentration + 1, self.batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        upper = where(self.concentration < 0, self.loc - self.scale / self.concentration,
                      math.inf)
        return constraints.interval(self.loc, upper)
