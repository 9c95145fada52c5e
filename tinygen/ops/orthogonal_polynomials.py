"""Array kernels for torch.special's orthogonal polynomials of x and an integer degree n (one per
element, broadcast): Chebyshev T, U, V, W and their shifted forms on [0, 1], the physicists' and
probabilists' Hermite H and He, Laguerre L and Legendre P, as PyTorch's ATen/native/Math.h
computes them: by their three-term recurrences, with the same closed forms for large n inside
(-1, 1) and the same values at the ends of the interval. The arithmetic is done in the result's
dtype, as PyTorch's (so float32 overflows, and loses digits at high degree, as there).

The recurrence runs on the whole array at once, one step per degree up to the largest n that
needs it; each element keeps its value once its own degree is reached. n is truncated to an
integer, as PyTorch's static_cast<int64_t>.
"""

import numpy as np

from tinygen.backend import get_array_module


def _recur(x, n, first, step):
    """p_n(x) from p_0 = 1, p_1 = ``first`` and p_{m+1} = ``step(m, p_{m-1}, p_m)``, where the
    recurrence is wanted (n >= 2), for each element's own n."""
    xp = get_array_module(x)
    p, q = xp.ones_like(x), first
    top = int(n.max()) if n.size else 0
    for m in range(1, top):
        more = n >= m + 1
        r = step(m, p, q)
        p, q = xp.where(more, q, p), xp.where(more, r, q)
    return xp.where(n == 0, 1, q)


def _prepare(x, n):
    """x (in the result dtype) and n (int64, truncated) broadcast together, and that dtype."""
    xp = get_array_module(x)
    dtype = xp.result_type(x, n)
    x, n = xp.broadcast_arrays(x, n)
    if n.dtype.kind == "f":
        n = xp.where(xp.isfinite(n), n, -1)         # NaN or inf degree: as n < 0
    return x.astype(dtype), n.astype(xp.int64), dtype


def _kernel(fn):
    """Run ``fn(x, n, xp, dtype)`` on x and int64 n quietly, in x and n's common dtype; 0 for
    n < 0 (as PyTorch)."""
    def apply(x, n):
        xp = get_array_module(x)
        x, n, dtype = _prepare(x, n)
        with np.errstate(all="ignore"):
            out = fn(x, xp.maximum(n, 0), xp, dtype)
        return xp.where(n < 0, 0, out).astype(dtype, copy=False)
    apply.__name__, apply.__doc__ = fn.__name__, fn.__doc__
    return apply


def _odd(n):
    """n % 2 == 1 (n >= 0)."""
    return (n % 2) == 1


def _chebyshev(y, n, xp, kind, closed_above):
    """Chebyshev ``kind`` ('t', 'u', 'v', 'w') at y by recurrence, with PyTorch's closed forms in
    cos(acos y) for n > ``closed_above`` and |y| < 1 (its values at y = +-1 come from callers)."""
    first = {"t": y, "u": y + y, "v": y + y - 1, "w": y + y + 1}[kind]
    inside = (n > closed_above) & (xp.abs(y) < 1)
    rec = _recur(y, xp.where(inside, 0, n), first, lambda m, p, q: (y + y) * q - p)
    theta = xp.arccos(xp.where(inside, y, 0).astype(y.dtype))
    nf = n.astype(y.dtype)
    odd_sign = xp.where(_odd(n), -1, 1).astype(y.dtype)
    if kind == "t":
        closed = xp.cos(nf * theta)
    elif kind == "u":
        s = xp.sin(theta)
        closed = xp.where(s != 0, xp.sin((nf + 1) * theta) / xp.where(s != 0, s, 1),
                          (nf + 1) * xp.cos((nf + 1) * theta) / y)
    elif kind == "v":
        closed = xp.where(xp.sin(theta / 2) != 1,
                          xp.cos((nf + 0.5) * theta) / xp.cos(theta / 2), odd_sign * (2 * nf + 1))
    else:
        closed = xp.where(xp.cos(theta / 2) != 1,
                          xp.sin((nf + 0.5) * theta) / xp.sin(theta / 2),
                          xp.where(y > 0, 2 * nf + 1, odd_sign))
    return xp.where(inside, closed, rec)


def _ends(kind, n, xp):
    """The values at y = 1 and y = -1 of Chebyshev ``kind`` of degree n."""
    nf = n.astype(xp.float64)
    sign = xp.where(_odd(n), -1.0, 1.0)
    return {"t": (1.0, sign), "u": (nf + 1, sign * (nf + 1)), "v": (1.0, sign * (2 * nf + 1)),
            "w": (2 * nf + 1, sign)}[kind]


def _chebyshev_kernel(kind, shifted):
    """The kernel of (shifted) Chebyshev ``kind``: the shifted ones are the plain ones at
    y = 2x - 1 (with PyTorch's own thresholds for the closed forms)."""
    plain_closed = {"t": 6, "u": 8, "v": 8, "w": 8}[kind]
    shifted_closed = {"t": 6, "u": 6, "v": 6, "w": 4}[kind]

    def kernel(x, n, xp, dtype):
        y = x + x - 1 if shifted else x
        out = _chebyshev(y, n, xp, kind, shifted_closed if shifted else plain_closed)
        high, low = _ends(kind, n, xp)
        if shifted:
            return xp.where(x == 1, high, xp.where(x == 0, low, out))
        return xp.where(x == 1, high, xp.where(x == -1, low, out))
    shift = "shifted " if shifted else ""
    kernel.__name__ = f"{shift.replace(' ', '_')}chebyshev_polynomial_{kind}"
    kernel.__doc__ = f"The {shift}Chebyshev polynomial {kind.upper()}_n(x)."
    return _kernel(kernel)


chebyshev_polynomial_t = _chebyshev_kernel("t", False)
chebyshev_polynomial_u = _chebyshev_kernel("u", False)
chebyshev_polynomial_v = _chebyshev_kernel("v", False)
chebyshev_polynomial_w = _chebyshev_kernel("w", False)
shifted_chebyshev_polynomial_t = _chebyshev_kernel("t", True)
shifted_chebyshev_polynomial_u = _chebyshev_kernel("u", True)
shifted_chebyshev_polynomial_v = _chebyshev_kernel("v", True)
shifted_chebyshev_polynomial_w = _chebyshev_kernel("w", True)


def _hermite_limit(dtype):
    """PyTorch's largest Hermite degree: 128 in float32 (and below), 512 in float64."""
    return 512 if np.dtype(dtype) == np.float64 else 128


@_kernel
def hermite_polynomial_h(x, n, xp, dtype):
    """The physicists' Hermite polynomial H_n(x): H_{m+1} = 2x H_m - 2m H_{m-1}."""
    big = n > _hermite_limit(dtype)
    out = _recur(x, xp.where(big, 0, n), x + x, lambda m, p, q: (x + x) * q - 2 * m * p)
    return xp.where(big, xp.nan, out)


@_kernel
def hermite_polynomial_he(x, n, xp, dtype):
    """The probabilists' Hermite polynomial He_n(x): He_{m+1} = x He_m - m He_{m-1}."""
    big = n > _hermite_limit(dtype)
    out = _recur(x, xp.where(big, 0, n), x, lambda m, p, q: x * q - m * p)
    return xp.where(big, xp.nan, out)


@_kernel
def laguerre_polynomial_l(x, n, xp, dtype):
    """The Laguerre polynomial L_n(x): (m+1) L_{m+1} = (2m + 1 - x) L_m - m L_{m-1}; 1 at 0."""
    out = _recur(x, n, 1 - x, lambda m, p, q: ((2 * m + (1 - x)) * q - m * p) / (m + 1))
    return xp.where(x == 0, 1.0, out)


@_kernel
def legendre_polynomial_p(x, n, xp, dtype):
    """The Legendre polynomial P_n(x): (m+1) P_{m+1} = (2m+1) x P_m - m P_{m-1}."""
    out = _recur(x, n, x, lambda m, p, q: ((2 * m + 1) * x * q - m * p) / (m + 1))
    ends = xp.where((x > 0) | ~_odd(n), 1.0, -1.0)
    return xp.where(xp.abs(x) == 1, ends, out)
