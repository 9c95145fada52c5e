"""The von Mises distribution on the circle, exp(kappa cos(x - loc)) / (2 pi I0(kappa)); sampled
by the rejection sampler of Best and Fisher (1979), as PyTorch does, in float64."""

import math

from tinygen import dtypes
from tinygen.autograd import no_grad
from tinygen.creation import rand, zeros
from tinygen.ops import broadcast_to, where
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property

# Abramowitz and Stegun 9.8.1-4: polynomial approximations of I0 and I1 (those PyTorch uses)
_I0_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813]
_I0_LARGE = [0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281, -0.02057706,
             0.02635537, -0.01647633, 0.00392377]
_I1_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.02658733, 0.00301532, 0.00032411]
_I1_LARGE = [0.39894228, -0.03988024, -0.00362018, 0.00163801, -0.01031555, 0.02282967,
             -0.02895312, 0.01787654, -0.00420059]


def _eval_poly(y, coef):
    result = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def log_modified_bessel_fn(x, order=0):
    """log I_order(x) for order 0 or 1 (x > 0)."""
    if order not in (0, 1):
        raise ValueError(f"order must be 0 or 1, got {order}")
    y = (x / 3.75) ** 2
    small = _eval_poly(y, _I0_SMALL if order == 0 else _I1_SMALL)
    if order == 1:
        small = x.abs() * small
    large = x - 0.5 * x.log() + _eval_poly(3.75 / x, _I0_LARGE if order == 0 else _I1_LARGE).log()
    return where(x < 3.75, small.log(), large)


def _rejection_sample(loc, concentration, proposal_r, shape):
    """Best-Fisher: propose from a wrapped Cauchy, accept elementwise until all are done."""
    x = zeros(shape, dtype=loc.dtype, device=loc.device)
    done = zeros(shape, dtype=dtypes.bool, device=loc.device)
    while not bool(done.all()):
        u1, u2, u3 = rand((3,) + tuple(shape), dtype=loc.dtype, device=loc.device).unbind()
        z = (math.pi * u1).cos()
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
        x = where(accept & ~done, (u3 - 0.5).sign() * f.acos(), x)
        done = done | accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """A circular normal: ``loc`` in radians, ``concentration`` kappa > 0 (1/kappa ~ variance).
    Samples lie in [-pi, pi)."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def log_prob(self, value):
        self._check(value)
        return self.concentration * (value - self.loc).cos() - math.log(2 * math.pi) \
            - log_modified_bessel_fn(self.concentration, order=0)

    @lazy_property
    def _proposal_r(self):
        kappa = self.concentration.detach().to(dtypes.float64)
        tau = 1 + (1 + 4 * kappa ** 2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        return where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))

    @no_grad()
    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        f64 = dtypes.float64
        loc = broadcast_to(self.loc.to(f64), shape)
        kappa = broadcast_to(self.concentration.to(f64), shape)
        r = broadcast_to(self._proposal_r, shape)
        return _rejection_sample(loc, kappa, r, shape).to(self.loc.dtype)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape)
        new.__dict__.pop("_proposal_r", None)
        return new

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """1 - I1(kappa) / I0(kappa) (the circular variance)."""
        k = self.concentration
        return 1 - (log_modified_bessel_fn(k, 1) - log_modified_bessel_fn(k, 0)).exp()

