"""The rest of torch.special as ops: the regularized incomplete gamma functions igamma/igammac
(gammainc/gammaincc), erfcx, the Bessel functions J0, J1, Y0, Y1, I0, I1, K0, K1 (and scaled K),
the spherical j0, the Airy Ai and the orthogonal polynomials of torch.special.

Gradients are PyTorch's: igamma and igammac have one in x (their second argument) only, and
asking for the one in a raises NotImplementedError, as there; erfcx has one; the Bessel, Airy and
polynomial functions have none in PyTorch, so their results here are outside the graph too
(``requires_grad`` False), as there.
"""

import math

from tinygen.ops import bessel, bessel_more, incomplete_gamma
from tinygen.ops import orthogonal_polynomials as poly
from tinygen.ops.convert import float_input
from tinygen.ops.elementwise import exp, log
from tinygen.ops.special import Binary, _tensor_pair, unary
from tinygen.ops.special_functions import lgamma
from tinygen.tensor import Tensor

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _incomplete_pair(name, input, other):
    """input and other as two float Tensors of their common dtype; integer ones raise as
    PyTorch's ("not implemented for 'Long'")."""
    a, b = _tensor_pair(input, other, float_result=False)
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for {a.dtype} inputs (only '
                                  "floating point)")
    return a, b


def _density(a, x):
    """d/dx P(a, x) = x**(a-1) exp(-x) / Gamma(a), in Tensor ops (so it differentiates in x)."""
    return exp((a - 1) * log(x) - x - lgamma(a))


def _incomplete_derivatives(name, sign):
    """PyTorch's gradients of igamma (``sign`` 1) and igammac (-1): none in a."""
    def derivatives(a, x, y, needs):
        if needs[0]:
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        return None, (sign * _density(a, x) if needs[1] else None)
    return derivatives


def igamma(input, other):
    """The regularized lower incomplete gamma function P(input, other) =
    integral_0^other t**(input-1) e**-t dt / Gamma(input); d/d other = other**(input-1)
    e**-other / Gamma(input)."""
    a, x = _incomplete_pair("igamma", input, other)
    return Binary.apply(a, x, incomplete_gamma.igamma, _incomplete_derivatives("igamma", 1))


def igammac(input, other):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P(input, other)."""
    a, x = _incomplete_pair("igammac", input, other)
    return Binary.apply(a, x, incomplete_gamma.igammac, _incomplete_derivatives("igammac", -1))


def gammainc(input, other):
    """torch.special.gammainc: igamma."""
    return igamma(input, other)


def gammaincc(input, other):
    """torch.special.gammaincc: igammac."""
    return igammac(input, other)


def erfcx(input):
    """exp(x**2) erfc(x), the scaled complementary error function;  d/dx = 2 x erfcx(x) -
    2/sqrt(pi)."""
    return unary(input, bessel_more.erfcx, lambda t: 2 * t * erfcx(t) - TWO_OVER_SQRT_PI)


def _no_grad(name, kernel):
    """The torch.special function ``name`` of one tensor, from an array kernel, with no
    gradient (as PyTorch's)."""
    def fn(input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                            f"{type(input).__name__}")
        return Tensor(kernel(float_input(input.detach()).array))
    fn.__name__ = name
    fn.__doc__ = f"{(kernel.__doc__ or '').splitlines()[0]} No gradient, as PyTorch."
    return fn


def _polynomial(name, kernel):
    """The torch.special polynomial ``name`` of x and the degree n (Tensors or numbers, n
    truncated to an integer), with no gradient (as PyTorch's)."""
    def fn(input, n):
        x, degree = _tensor_pair(input, n)
        return Tensor(kernel(x.detach().array, degree.detach().array))
    fn.__name__ = name
    fn.__doc__ = f"{kernel.__doc__.splitlines()[0]} No gradient, as PyTorch."
    return fn


bessel_j0 = _no_grad("bessel_j0", bessel_more.bessel_j0)
bessel_j1 = _no_grad("bessel_j1", bessel_more.bessel_j1)
bessel_y0 = _no_grad("bessel_y0", bessel_more.bessel_y0)
bessel_y1 = _no_grad("bessel_y1", bessel_more.bessel_y1)
modified_bessel_i0 = _no_grad("modified_bessel_i0", bessel.i0)
modified_bessel_i1 = _no_grad("modified_bessel_i1", bessel.i1)
modified_bessel_k0 = _no_grad("modified_bessel_k0", bessel_more.modified_bessel_k0)
modified_bessel_k1 = _no_grad("modified_bessel_k1", bessel_more.modified_bessel_k1)
scaled_modified_bessel_k0 = _no_grad("scaled_modified_bessel_k0",
                                     bessel_more.scaled_modified_bessel_k0)
scaled_modified_bessel_k1 = _no_grad("scaled_modified_bessel_k1",
                                     bessel_more.scaled_modified_bessel_k1)
spherical_bessel_j0 = _no_grad("spherical_bessel_j0", bessel_more.spherical_bessel_j0)
airy_ai = _no_grad("airy_ai", bessel_more.airy_ai)

POLYNOMIALS = (
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
    "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
    "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p")
chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", poly.chebyshev_polynomial_t)
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", poly.chebyshev_polynomial_u)
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", poly.chebyshev_polynomial_v)
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", poly.chebyshev_polynomial_w)
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t",
                                             poly.shifted_chebyshev_polynomial_t)
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u",
                                             poly.shifted_chebyshev_polynomial_u)
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v",
                                             poly.shifted_chebyshev_polynomial_v)
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w",
                                             poly.shifted_chebyshev_polynomial_w)
hermite_polynomial_h = _polynomial("hermite_polynomial_h", poly.hermite_polynomial_h)
hermite_polynomial_he = _polynomial("hermite_polynomial_he", poly.hermite_polynomial_he)
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", poly.laguerre_polynomial_l)
legendre_polynomial_p = _polynomial("legendre_polynomial_p", poly.legendre_polynomial_p)

__all__ = ["igamma", "igammac", "gammainc", "gammaincc", "erfcx", "bessel_j0", "bessel_j1",
           "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai", *POLYNOMIALS]
