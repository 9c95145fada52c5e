"""Scalar math for the Numba kernels, written so that the loops calling it vectorize.

LLVM turns a loop into SIMD code only when its body has no opaque calls and no running sum it
would have to reorder. libm's ``exp`` is such a call, so ``exp`` here is the textbook Cody-Waite
form (Muller, *Elementary Functions*, ch. 11): exp(v) = 2^k exp(r) with k = round(v / ln 2),
r = v - k ln 2 split in two parts so the product is exact, exp(r) by its Taylor polynomial on
|r| <= ln(2)/2, and 2^k written straight into a float's exponent bits. It is within 1 ulp of
libm, in float32 (degree 7) and float64 (degree 13), and keeps inf, 0 and nan where libm does;
polynomials may use fused multiply-adds (the ``contract`` flag, which only removes a rounding).
Sums are compiled with one fastmath flag, ``reassoc``, which lets LLVM add in SIMD lanes (the
order differs from a plain loop by rounding only; inf and nan behave as without it). The max
runs on the floats' bit patterns as integers instead, as reordering a float max needs the
no-nan flag.
"""

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from tinygen.kernels.cpu_math import SCALAR
from tinygen.kernels.reference import INV_SQRT_2, INV_SQRT_2PI

REDUCE = dict(SCALAR, fastmath={"reassoc"})
POLY = dict(SCALAR, fastmath={"contract"})     # a * b + c may become one fused multiply-add

LOG2E = 1.4426950408889634
LN2_HI = 0.693145751953125        # ln 2 to 16 bits, so k * LN2_HI is exact for every k we meet
LN2_LO = 1.4286068203094173e-06            # ln 2 - LN2_HI
TAYLOR_64 = tuple(1.0 / math.factorial(n) for n in range(13, -1, -1))
TAYLOR_32 = tuple(np.float32(1.0 / math.factorial(n)) for n in range(7, -1, -1))
F32 = np.float32


@intrinsic
def _pow2(typingctx, k):
    """2.0 ** k as float32 (int32 k in [-126, 127]) or float64 (int64 k in [-1022, 1023]),
    made by writing the biased exponent k + bias into the exponent field."""
    wide = k == types.int64
    result = types.float64 if wide else types.float32
    bias, shift, width = (1023, 52, 64) if wide else (127, 23, 32)

    def codegen(context, builder, signature, args):
        int_type = ir.IntType(width)
        biased = builder.add(args[0], ir.Constant(int_type, bias))
        bits = builder.shl(biased, ir.Constant(int_type, shift))
        return builder.bitcast(bits, ir.DoubleType() if wide else ir.FloatType())
    return result(k), codegen


def like(v, c):
    """The constant c in v's type (float32 or float64), so float32 math stays in float32
    (usable only inside jitted code)."""
    return c


@overload(like, jit_options=SCALAR)
def _like_overload(v, c):
    if v == types.float32:
        return lambda v, c: np.float32(c)
    return lambda v, c: np.float64(c)


def exp(v):
    """e ** v; float32 in, float32 out, else float64 (usable only inside jitted code)."""
    return math.exp(v)


@numba.njit(**POLY)
def _exp64(v):
    w = -746.0 if v < -746.0 else (709.8 if v > 709.8 else v)    # exp is 0 or inf beyond;
    k = np.floor(w * LOG2E + 0.5)                                 # nan passes through
    r = (w - k * LN2_HI) - k * LN2_LO
    p = 0.0
    for c in TAYLOR_64:
        p = p * r + c
    n = np.int64(k)
    half = n >> 1                              # two factors keep each 2^k in the normal range
    return p * _pow2(half) * _pow2(n - half)


@numba.njit(**POLY)
def _exp32(v):
    w = F32(-104.0) if v < F32(-104.0) else (F32(88.8) if v > F32(88.8) else v)
    k = np.floor(w * F32(LOG2E) + F32(0.5))
    r = (w - k * F32(LN2_HI)) - k * F32(LN2_LO)
    p = F32(0.0)
    for c in TAYLOR_32:
        p = p * r + c
    n = np.int32(k)
    half = np.int32(n >> 1)                    # (numba widens int32 arithmetic to int64)
    return p * _pow2(half) * _pow2(np.int32(n - half))


@overload(exp, jit_options=SCALAR)
def _exp_overload(v):
    if v == types.float32:
        return lambda v: _exp32(v)
    return lambda v: _exp64(np.float64(v))


def normal_cdf_pdf(v):
    """(Phi(v), phi(v)): the standard normal's cdf 0.5 (1 + erf(v / sqrt 2)) and density
    exp(-v^2 / 2) / sqrt(2 pi), in v's dtype (usable only inside jitted code)."""
    return 0.5 * (1.0 + math.erf(v * INV_SQRT_2)), INV_SQRT_2PI * math.exp(-0.5 * v * v)


@numba.njit(inline="always", **SCALAR)
def _normal_cdf_pdf_32(v):
    """For float32, erf from Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7 (float32's own
    rounding is 6e-8): 1 - erf(u) = t P(t) exp(-u^2) with t = 1 / (1 + p u), and
    exp(-u^2) = exp(-v^2 / 2) is the density's exp too. All float32, and it vectorizes where
    libm's erf does not."""
    gauss = exp(F32(-0.5) * v * v)
    t = F32(1) / (F32(1) + F32(0.3275911 * INV_SQRT_2) * abs(v))
    poly = ((((F32(1.061405429) * t - F32(1.453152027)) * t + F32(1.421413741)) * t
             - F32(0.284496736)) * t + F32(0.254829592)) * t
    half_erfc = F32(0.5) * poly * gauss
    return F32(1) - half_erfc if v >= 0 else half_erfc, F32(INV_SQRT_2PI) * gauss


@overload(normal_cdf_pdf, jit_options=SCALAR)
def _normal_cdf_pdf_overload(v):
    if v == types.float32:
        return lambda v: _normal_cdf_pdf_32(v)
    return lambda v: (0.5 * (1.0 + math.erf(v * INV_SQRT_2)), normal_pdf(v))


@numba.njit(**SCALAR)
def sigmoid(v):
    """1 / (1 + e^-v) in v's dtype: 0 and 1 at the far ends, never nan for finite v."""
    one = like(v, 1.0)
    return one / (one + exp(-v))


@numba.njit(**SCALAR)
def normal_pdf(v):
    """phi(v) = exp(-v^2 / 2) / sqrt(2 pi), in v's dtype."""
    return like(v, INV_SQRT_2PI) * exp(like(v, -0.5) * v * v)


# log(y) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...) with s = (y - 1) / (y + 1); keeping y in
# [0.7, 1.42] (halving it past sqrt 2) holds |s| <= 0.172, where 12 terms reach double
# precision and 6 terms single precision.
ATANH_SERIES = tuple(1.0 / (2 * n + 1) for n in range(11, -1, -1))
ATANH_SERIES_32 = tuple(np.float32(1.0 / (2 * n + 1)) for n in range(5, -1, -1))
LN2 = 0.6931471805599453


def log1p_unit(e):
    """log(1 + e) for e in [0, 1] in e's dtype, accurate to the last bit even for tiny e (s is
    formed from e directly, never from 1 + e) (usable only inside jitted code)."""
    return math.log1p(e)


@numba.njit(**POLY)
def _log1p_unit_64(e):
    halve = e > 0.41421356237309503
    s = (e - 1.0) / (e + 3.0) if halve else e / (2.0 + e)
    s2 = s * s
    p = 0.0
    for c in ATANH_SERIES:
        p = p * s2 + c
    return 2.0 * s * p + (LN2 if halve else 0.0)


@numba.njit(**POLY)
def _log1p_unit_32(e):
    halve = e > F32(0.41421356)
    s = (e - F32(1)) / (e + F32(3)) if halve else e / (F32(2) + e)
    s2 = s * s
    p = F32(0)
    for c in ATANH_SERIES_32:
        p = p * s2 + c
    return F32(2) * s * p + (F32(LN2) if halve else F32(0))


@overload(log1p_unit, jit_options=SCALAR)
def _log1p_unit_overload(e):
    if e == types.float32:
        return lambda e: _log1p_unit_32(e)
    return lambda e: _log1p_unit_64(np.float64(e))


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float whose bit pattern is ``bits``: int32 -> float32, int64 -> float64."""
    wide = bits == types.int64
    result = types.float64 if wide else types.float32

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType() if wide else ir.FloatType())
    return result(bits), codegen


def ordered_bits(a):
    """(a's bits as signed integers, sign shift, magnitude mask) for a float32 or float64
    array (usable only inside jitted code)."""
    return a.view(np.int64), 63, 0x7FFFFFFFFFFFFFFF


@overload(ordered_bits, jit_options=SCALAR)
def _ordered_bits_overload(a):
    if a.dtype == types.float32:
        return lambda a: (a.view(np.int32), np.int32(31), np.int32(0x7FFFFFFF))
    return lambda a: (a.view(np.int64), np.int64(63), np.int64(0x7FFFFFFFFFFFFFFF))


@numba.njit(**SCALAR)
def row_max(a, zero):
    """The largest value of the 1-D array a, with infinities (and an empty row) giving ``zero``
    (a zero of a's dtype), so that a - max never overflows and a row of -inf stays -inf.

    A float's bits read as a signed integer, with the magnitude bits flipped when negative
    (b ^ ((b >> sign) & mask)), order exactly as the floats do; an integer max vectorizes,
    where a float max cannot without giving up nan. A nan sorts beyond +-inf, and a row
    holding one comes out nan anyway through exp(nan - max)."""
    bits, sign, mask = ordered_bits(a)
    best = mask ^ (-1)                            # the smallest key: below -inf
    for j in range(bits.size):
        b = bits[j]
        best = max(best, bits.dtype.type(b ^ ((b >> sign) & mask)))
    m = _float_from_bits(bits.dtype.type(best ^ ((best >> sign) & mask)))
    return m if np.isfinite(m) else zero


@numba.njit(**REDUCE)
def row_sum(a):
    """sum(a) over a 1-D array, accumulated in float64."""
    total = 0.0
    for j in range(a.size):
        total += a[j]
    return total


@numba.njit(**REDUCE)
def row_dot(a, b):
    """sum(a * b) over two 1-D arrays, in float64."""
    total = 0.0
    for j in range(a.size):
        total += np.float64(a[j]) * b[j]
    return total


@numba.njit(**REDUCE)
def row_moments(a, shift):
    """(sum(a - shift), sum((a - shift)^2)) over a 1-D array in one pass, in float64. With
    shift a value of the row, var = s2/n - (s1/n)^2 loses little to cancellation."""
    s1 = 0.0
    s2 = 0.0
    for j in range(a.size):
        d = np.float64(a[j]) - shift
        s1 += d
        s2 += d * d
    return s1, s2


@numba.njit(**REDUCE)
def row_grad_sums(g, w, x, mu):
    """(sum(g w), sum(g w (x - mu))) over 1-D arrays in one pass, in float64: the two sums a
    normalisation's backward needs."""
    s1 = 0.0
    s2 = 0.0
    for j in range(g.size):
        gw = np.float64(g[j]) * w[j]
        s1 += gw
        s2 += gw * (np.float64(x[j]) - mu)
    return s1, s2
