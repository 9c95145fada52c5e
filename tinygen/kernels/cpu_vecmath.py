"""Scalar math for the Numba kernels, written so that the loops calling it vectorize.

LLVM turns a loop into SIMD code only when its body has no opaque calls and no running sum it
would have to reorder. libm's ``exp`` is such a call, so ``exp`` here is the textbook Cody-Waite
form (Muller, *Elementary Functions*, ch. 11): exp(v) = 2^k exp(r) with k = round(v / ln 2),
r = v - k ln 2 split in two parts so the product is exact, exp(r) by a polynomial on
|r| <= ln(2)/2, and 2^k written straight into a float's exponent bits. In float64 (Taylor,
degree 13) it is within 1 ulp of libm and keeps inf, 0 and nan where libm does. In float32, where
the kernels spend their time, it is cut to the bone: a degree-5 minimax polynomial (relative
error 1.7e-7, about 2 ulp) and a single 2^k, so results near and below float32's smallest normal
number, 1.2e-38, are flushed to 0 (exp(v) < 1.7e-38, v < -86.98); inf and nan pass as in libm.
libm's ``erf`` is avoided the same way (GELU's normal cdf): Abramowitz & Stegun's rational form
in float32, fitted polynomials in float64. Polynomials may use fused multiply-adds (the
``contract`` flag, which only removes a rounding).
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
F32 = np.float32


@intrinsic
def _pow2(typingctx, k):
    """2.0 ** k as float64 (int64 k in [-1022, 1023]), made by writing the biased exponent
    k + 1023 into the exponent field."""
    def codegen(context, builder, signature, args):
        bits = builder.shl(builder.add(args[0], ir.Constant(ir.IntType(64), 1023)),
                           ir.Constant(ir.IntType(64), 52))
        return builder.bitcast(bits, ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float whose bit pattern is ``bits``: int32 -> float32, int64 -> float64."""
    wide = bits == types.int64
    result = types.float64 if wide else types.float32

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType() if wide else ir.FloatType())
    return result(bits), codegen


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


# Float32: k + 126 lands in the low mantissa bits of v log2(e) + SHIFT_32 (the sum rounds to an
# integer as 1.5 * 2^23 leaves no fraction bits), and shifted up by 23 it is the exponent field
# of 2^(k-1); EXP_POLY_32 is 2 p(r) (doubling is exact), so the product is p(r) 2^k for every k
# from -125 (v >= EXP_MIN_32) up to 128 (v at the largest float's log) with a normal 2^(k-1).
SHIFT_32 = F32(1.5 * 2**23 + 126)
EXP_MIN_32, EXP_MAX_32 = F32(-86.98), F32(88.72284)           # -125.5 ln 2 < EXP_MIN_32
EXP_POLY_32 = tuple(F32(2 * c) for c in (                     # minimax fit, highest power first
    0.008312525227665901, 0.041890114545822144, 0.16667114198207855, 0.499992311000824, 1, 1))


@intrinsic
def _bits_of(typingctx, v):
    """The bit pattern of a float32 as an int32."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(v), codegen


@numba.njit(**POLY)
def _exp32(v):
    w = EXP_MIN_32 if v < EXP_MIN_32 else (EXP_MAX_32 if v > EXP_MAX_32 else v)
    z = w * F32(LOG2E) + SHIFT_32                        # nan passes through w and z
    k = z - SHIFT_32
    r = (w - k * F32(LN2_HI)) - k * F32(LN2_LO)
    p = EXP_POLY_32[0]
    for c in EXP_POLY_32[1:]:
        p = p * r + c
    e = p * _float_from_bits(np.int32(_bits_of(z) << np.int32(23)))
    return F32(0.0) if v < EXP_MIN_32 else e


@overload(exp, jit_options=SCALAR)
def _exp_overload(v):
    if v == types.float32:
        return lambda v: _exp32(v)
    return lambda v: _exp64(np.float64(v))


def normal_cdf_pdf(v):
    """(Phi(v), phi(v)): the standard normal's cdf 0.5 (1 + erf(v / sqrt 2)) and density
    exp(-v^2 / 2) / sqrt(2 pi), in v's dtype (usable only inside jitted code)."""
    return 0.5 * (1.0 + math.erf(v * INV_SQRT_2)), INV_SQRT_2PI * math.exp(-0.5 * v * v)


# Abramowitz & Stegun 7.1.26, with the 1/2 of Phi = 1 - erfc/2 folded into the coefficients.
ERFC_P_32 = F32(0.3275911 * INV_SQRT_2)                 # p, for u = |v| / sqrt 2
HALF_ERFC_POLY_32 = tuple(F32(c / 2) for c in (
    1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


@numba.njit(**POLY)
def _normal_cdf_pdf_32(v):
    """For float32, erf from Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7 (float32's own
    rounding is 6e-8): 1 - erf(u) = t P(t) exp(-u^2) with t = 1 / (1 + p u), and
    exp(-u^2) = exp(-v^2 / 2) is the density's exp too. All float32, and it vectorizes where
    libm's erf does not."""
    gauss = exp(F32(-0.5) * v * v)
    t = F32(1) / (F32(1) + ERFC_P_32 * abs(v))
    poly = HALF_ERFC_POLY_32[0]
    for c in HALF_ERFC_POLY_32[1:]:
        poly = poly * t + c
    half_erfc = poly * t * gauss
    return F32(1) - half_erfc if v >= 0 else half_erfc, F32(INV_SQRT_2PI) * gauss


# Float64, where libm's erf (an opaque call) would keep the loops scalar: with u = v / sqrt 2,
# erf(u) = u A(u^2) for u^2 <= 1 and erfc(|u|) = exp(-u^2) B(1 / (1 + |u|/2)) beyond, A and B
# least-squares fits on Chebyshev nodes to mpmath's erf and erfc (relative error < 1e-14 up to
# |u| = 6.5; past it exp(-u^2) < 4e-19 and Phi is 0 or 1). Highest power first.
ERF_SMALL_64 = (
    9.266496996255856e-09, -1.5111600472643253e-07, 1.6295107430683949e-06,
    -1.4911648891415272e-05, 0.00012054576447633638, -0.0008548300872295508,
    0.0052239770681793505, -0.026866170577263784, 0.11283791670544299, -0.3761263890317468,
    1.1283791670955126)
ERFC_LARGE_64 = (
    0.062226320681149055, -0.4516061698145919, 1.4621090036056728, -2.740944279901847,
    3.230496613116086, -2.4736568101484893, 1.3407567793123925, -0.6468468174712173,
    0.18516330914100276, 0.03758306493270745, 0.18471124300536113, 0.24572398103369314,
    0.2821951397979169, 0.2820892206995829, 1.431168758503354e-07)


@numba.njit(inline="always", **SCALAR)     # too large for LLVM to inline: Numba inlines it
def _normal_cdf_pdf_64(v):
    u = v * INV_SQRT_2
    s = u * u
    gauss = exp(-s)                                  # exp(-u^2) = exp(-v^2 / 2)
    a = ERF_SMALL_64[0]
    for c in ERF_SMALL_64[1:]:
        a = a * s + c
    t = 1.0 / (1.0 + 0.5 * abs(u))
    b = ERFC_LARGE_64[0]
    for c in ERFC_LARGE_64[1:]:
        b = b * t + c
    half_erfc = 0.5 * gauss * b
    tail = 1.0 - half_erfc if v >= 0 else half_erfc
    return 0.5 + 0.5 * u * a if s <= 1.0 else tail, INV_SQRT_2PI * gauss


@overload(normal_cdf_pdf, jit_options=SCALAR, inline="always")
def _normal_cdf_pdf_overload(v):
    if v == types.float32:
        return lambda v: _normal_cdf_pdf_32(v)
    return lambda v: _normal_cdf_pdf_64(np.float64(v))


@numba.njit(**SCALAR)
def sigmoid(v):
    """1 / (1 + e^-v) in v's dtype: 0 and 1 at the far ends, never nan for finite v."""
    one = like(v, 1.0)
    return one / (one + exp(-v))


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
