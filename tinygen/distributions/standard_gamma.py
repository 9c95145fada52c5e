"""Reparameterised Gamma(alpha, 1) samples: the draw x is the generator's (Marsaglia-Tsang), and
its gradient is the implicit one of Figurnov et al. (2018), dx/dalpha = -(dF/dalpha) / (dF/dx)
with F(x; alpha) = P(alpha, x), the regularised lower incomplete gamma function. dF/dx is the
density; dF/dalpha is a central difference of log P (series, x < alpha + 1) or log Q (continued
fraction, elsewhere), which keeps about eight digits even far in the tails."""

import numpy as np

from tinygen import backend, generator as generators
from tinygen.autograd import is_grad_enabled
from tinygen.autograd.function import ArrayFunction
from tinygen.ops import broadcast_to, clamp, gamma
from tinygen.tensor import Tensor

_MAX_TERMS = 5000


def _log_p_series(xp, a, x):
    """log P(a, x) = a log x - x - lgamma(a + 1) + log sum_n x^n / ((a + 1) ... (a + n))."""
    term, total = xp.ones_like(x), xp.ones_like(x)
    for n in range(1, _MAX_TERMS):
        term = term * x / (a + n)
        total = total + term
        if bool((term <= total * 1e-17).all()):
            break
    return a * xp.log(x) - x - gamma.lgamma(a + 1) + xp.log(total)


def _log_q_fraction(xp, a, x):
    """log Q(a, x) by Lentz's continued fraction (Numerical Recipes' gcf), for x >= a + 1."""
    tiny = 1e-300
    b = x + 1 - a
    c, d = xp.full_like(x, 1 / tiny), 1 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        d = 1 / d
        delta = d * c
        h = h * delta
        if bool((xp.abs(delta - 1) < 1e-15).all()):
            break
    return -x + a * xp.log(x) - gamma.lgamma(a) + xp.log(h)


def standard_gamma_grad(alpha, x):
    """dx/dalpha for x ~ Gamma(alpha, 1) reparameterised through its CDF (float64 arrays)."""
    xp = backend.get_array_module(x)
    lower = x < alpha + 1
    log_pdf = (alpha - 1) * xp.log(x) - x - gamma.lgamma(alpha)
    h = 1e-5 * alpha
    grad = xp.zeros_like(x)
    if lower.any():              # F = P: dx/da = -P dlogP/da / pdf
        a, v = alpha[lower], x[lower]
        dlog = (_log_p_series(xp, a + h[lower], v) - _log_p_series(xp, a - h[lower], v)) \
            / (2 * h[lower])
        grad[lower] = -xp.exp(_log_p_series(xp, a, v) - log_pdf[lower]) * dlog
    upper = ~lower
    if upper.any():              # F = 1 - Q: dx/da = Q dlogQ/da / pdf
        a, v = alpha[upper], x[upper]
        dlog = (_log_q_fraction(xp, a + h[upper], v) - _log_q_fraction(xp, a - h[upper], v)) \
            / (2 * h[upper])
        grad[upper] = xp.exp(_log_q_fraction(xp, a, v) - log_pdf[upper]) * dlog
    return grad


class StandardGamma(ArrayFunction):
    """x ~ Gamma(alpha, 1) (one draw per element of alpha);  dx/dalpha by implicit
    differentiation of the CDF (see the module docstring)."""

    @staticmethod
    def forward(ctx, alpha):
        xp = backend.get_array_module(alpha)
        device = backend.device_of(alpha)
        gen = generators.rng(device)
        x = backend.on_device(lambda xp: gen.standard_gamma(alpha), device)
        x = x.astype(alpha.dtype, copy=False)
        x = xp.maximum(x, np.finfo(alpha.dtype).tiny)
        ctx.alpha, ctx.x = alpha, x
        return x

    @staticmethod
    def backward(ctx, grad_x):
        if is_grad_enabled():
            raise RuntimeError("the Gamma sample's implicit gradient cannot be differentiated "
                               "again (create_graph=True)")
        alpha, x = ctx.alpha, ctx.x
        dx = standard_gamma_grad(alpha.astype(np.float64), x.astype(np.float64))
        return grad_x * Tensor(dx.astype(alpha.dtype, copy=False))


def standard_gamma(alpha, shape):
    """Gamma(alpha, 1) draws of ``shape`` (alpha broadcast to it), differentiable in alpha."""
    x = StandardGamma.apply(broadcast_to(alpha, shape))
    return clamp(x, min=float(np.finfo(alpha.dtype).tiny))
