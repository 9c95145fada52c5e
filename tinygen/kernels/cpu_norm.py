"""Numba twins of layer norm and batch norm, forward and backward (``reference.py`` is the spec).

Statistics are accumulated in float64. Weight and bias gradients, and batch-norm statistics,
are sums over many rows: each block of rows (one prange iteration) keeps its own partial sums,
which are added up afterwards, so threads never write to the same place (layer norm's, in the
input's dtype, see ``cpu_math.partial_sums``). A missing weight or bias is passed as ones or
zeros, which leaves every value unchanged and needs no extra kernel.
"""

import math

import numba
import numpy as np

from tinygen.kernels import reference
from tinygen.kernels.cpu_math import (
    fusable, launch, parallel_kernel, partial_sums, row_blocks, rows, total)
from tinygen.kernels.cpu_vecmath import POLY, REDUCE, row_grad_sums, row_moments


def _or_fill(v, n, value, dtype):
    """v as a contiguous (n,) array of ``dtype``, or ``value`` repeated when v is None."""
    return np.full(n, value, dtype) if v is None else np.ascontiguousarray(v, dtype).reshape(n)


@parallel_kernel
def _layer_norm_rows(x, weight, bias, eps, y, mean, rstd):
    n_rows, width = x.shape
    for r in numba.prange(n_rows):
        row, out = x[r], y[r]
        centre = np.float64(row[0]) if width else 0.0   # shift by a row value: little cancelling
        s1, s2 = row_moments(row, centre)
        offset = s1 / width
        mean[r] = centre + offset
        rstd[r] = 1.0 / math.sqrt(max(s2 / width - offset * offset, 0.0) + eps)
        mu, inv = mean[r], rstd[r]                 # in x's dtype, so the loop below stays in it
        for j in range(width):
            out[j] = (row[j] - mu) * inv * weight[j] + bias[j]


def layer_norm(x, weight, bias, eps):
    if not fusable(x) or x.ndim < 1:
        return reference.layer_norm(x, weight, bias, eps)
    x2 = rows(x)
    D = x2.shape[1]
    y = np.empty_like(x2)
    mean = np.empty(x2.shape[0], x.dtype)
    rstd = np.empty_like(mean)
    launch(_layer_norm_rows, x2.size, x2, _or_fill(weight, D, 1, x.dtype),
           _or_fill(bias, D, 0, x.dtype), float(eps), y, mean, rstd)
    return y.reshape(x.shape), mean.reshape(x.shape[:-1]), rstd.reshape(x.shape[:-1])


@parallel_kernel
def _layer_norm_backward_rows(grad_y, x, mean, rstd, weight, grad_x, part_w, part_b):
    """grad_x row by row; block k adds its rows' grad_y * xhat and grad_y into part_w[k],
    part_b[k]."""
    n_rows, width = x.shape
    n_blocks = part_w.shape[0]
    for k in numba.prange(n_blocks):
        block_w, block_b = part_w[k], part_b[k]
        for r in range(k * n_rows // n_blocks, (k + 1) * n_rows // n_blocks):
            row, g, out = x[r], grad_y[r], grad_x[r]
            mu, inv = mean[r], rstd[r]
            sum_g, sum_gx = row_grad_sums(g, weight, row, np.float64(mu))
            mean_g = x.dtype.type(sum_g / width)
            mean_gx = x.dtype.type(sum_gx * inv / width)
            for j in range(width):
                xhat = (row[j] - mu) * inv
                block_w[j] += g[j] * xhat
                block_b[j] += g[j]
                out[j] = inv * (g[j] * weight[j] - mean_g - xhat * mean_gx)


def layer_norm_backward(grad_y, x, mean, rstd, weight):
    if not fusable(x, grad_y) or x.ndim < 1 or grad_y.shape != x.shape:
        return reference.layer_norm_backward(grad_y, x, mean, rstd, weight)
    x2, g2 = rows(x), rows(grad_y)
    R, D = x2.shape
    grad_x = np.empty_like(x2)
    part_w, part_b = partial_sums(R, D, x.dtype), partial_sums(R, D, x.dtype)
    launch(_layer_norm_backward_rows, x2.size, g2, x2,
           np.ascontiguousarray(mean, x.dtype).reshape(R),
           np.ascontiguousarray(rstd, x.dtype).reshape(R),
           _or_fill(weight, D, 1, x.dtype), grad_x, part_w, part_b)
    grad_weight = None if weight is None else total(part_w)
    return grad_x.reshape(x.shape), grad_weight, total(part_b)


def _ncl(x):
    """x (N, C, ...) as a contiguous (N, C, L) array."""
    x = np.ascontiguousarray(x)
    return x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))


@parallel_kernel
def _channel_moments(x, centre, part_1, part_2):
    """Per block k of the N axis and per channel c, the shifted moments over the block's
    (n, l): part_1 += x - centre[c], part_2 += (x - centre[c])^2."""
    N, C, L = x.shape
    n_blocks = part_1.shape[0]
    for k in numba.prange(n_blocks):
        for n in range(k * N // n_blocks, (k + 1) * N // n_blocks):
            for c in range(C):
                s1, s2 = row_moments(x[n, c], centre[c])
                part_1[k, c] += s1
                part_2[k, c] += s2


def _moments(x, centre):
    """The sums of ``_channel_moments``, reduced over blocks: two (C,) float64 arrays."""
    part_1 = np.zeros((row_blocks(x.shape[0]), x.shape[1]))
    part_2 = np.zeros_like(part_1)
    launch(_channel_moments, x.size, x, centre, part_1, part_2)
    return part_1.sum(axis=0), part_2.sum(axis=0)


@parallel_kernel
def _channel_affine(x, scale, shift, out):
    """out = x * scale[c] + shift[c], one (n, c) plane per step."""
    N, C, L = x.shape
    for u in numba.prange(N * C):
        n, c = u // C, u % C
        plane, o = x[n, c], out[n, c]
        for i in range(L):
            o[i] = plane[i] * scale[c] + shift[c]


def _affine(x, scale, shift):
    out = np.empty_like(x)
    launch(_channel_affine, x.size, x, scale, shift, out)
    return out


def _normalize(x3, mean, var, weight, bias, eps):
    """(x - mean) / sqrt(var + eps) * weight + bias as x * scale + shift (scale, shift in
    float64, so the folded form loses nothing to rounding)."""
    C = x3.shape[1]
    scale = _or_fill(weight, C, 1, np.float64) / np.sqrt(var + eps)
    shift = _or_fill(bias, C, 0, np.float64) - mean * scale
    return _affine(x3, scale, shift)


def batch_norm(x, weight, bias, eps):
    if not fusable(x) or x.ndim < 2 or x.shape[0] * math.prod(x.shape[2:]) == 0:
        return reference.batch_norm(x, weight, bias, eps)
    x3 = _ncl(x)
    N, C, L = x3.shape
    centre = x3[0, :, 0].astype(np.float64)          # shift the data for accurate moments
    s1, s2 = _moments(x3, centre)
    count = N * L
    mean = centre + s1 / count
    var = np.maximum(s2 / count - (s1 / count) ** 2, 0.0)
    y = _normalize(x3, mean, var, weight, bias, eps)
    return y.reshape(x.shape), mean.astype(x.dtype), var.astype(x.dtype)


def batch_norm_eval(x, running_mean, running_var, weight, bias, eps):
    if not fusable(x) or x.ndim < 2:
        return reference.batch_norm_eval(x, running_mean, running_var, weight, bias, eps)
    x3 = _ncl(x)
    mean = np.asarray(running_mean, np.float64)
    var = np.asarray(running_var, np.float64)
    return _normalize(x3, mean, var, weight, bias, eps).reshape(x.shape)


CHUNK = 1024       # values summed in x's dtype before a float64 add: short, so float32 is exact
#                    enough, and float32 SIMD lanes are twice as many as float64's


@numba.njit(**REDUCE)
def _chunk_grad_sums(g, x, mu):
    """(sum(g), sum(g (x - mu))) over 1-D arrays, in x's dtype."""
    s1 = g.dtype.type(0)
    s2 = g.dtype.type(0)
    for i in range(g.size):
        s1 += g[i]
        s2 += g[i] * (x[i] - mu)
    return s1, s2


@numba.njit(**REDUCE)
def _plane_grad_sums(g, x, mu):
    """The same over one (n, c) plane, in float64 across chunks (sliced: a loop with a chunk's
    bounds inside would not vectorize as well)."""
    s1 = 0.0
    s2 = 0.0
    for start in range(0, g.size, CHUNK):
        c1, c2 = _chunk_grad_sums(g[start:start + CHUNK], x[start:start + CHUNK], mu)
        s1 += c1
        s2 += c2
    return s1, s2


@numba.njit(**POLY)                    # fused multiply-adds: one rounding less, ~2% faster
def _channel_grad_x(grad_y, x, grad_x, c, n_start, n_stop, mu, rstd, weight, s_g, s_gd):
    """grad_x of channel c for planes n_start..n_stop, from the channel's float64 sums
    s_g = sum(g), s_gd = sum(g (x - mu)): grad_x = k g - (k rstd^2 s_gd / n)(x - mu) -
    k s_g / n, k = rstd weight; x - mu keeps float32 from cancelling when |mu| >> std."""
    count = x.shape[0] * x.shape[2]
    k = rstd * weight
    a = x.dtype.type(k)
    b = x.dtype.type(k * rstd * rstd * s_gd / count)
    d = x.dtype.type(k * s_g / count)
    for n in range(n_start, n_stop):
        g, plane, out = grad_y[n, c], x[n, c], grad_x[n, c]
        for i in range(g.size):
            out[i] = g[i] * a - (plane[i] - mu) * b - d


@parallel_kernel
def _batch_norm_backward_channels(grad_y, x, mean, var, weight, eps, grad_x, grad_weight,
                                  grad_bias):
    """Many channels: one thread takes a channel's sums, then its grad_x while the channel's
    planes are still in its cache (the second read comes from L2, not memory)."""
    N, C, L = x.shape
    for c in numba.prange(C):
        s_g = 0.0
        s_gd = 0.0
        for n in range(N):
            s1, s2 = _plane_grad_sums(grad_y[n, c], x[n, c], mean[c])
            s_g += s1
            s_gd += s2
        rstd = 1.0 / math.sqrt(np.float64(var[c]) + eps)
        grad_weight[c], grad_bias[c] = s_gd * rstd, s_g
        _channel_grad_x(grad_y, x, grad_x, c, 0, N, mean[c], rstd, weight[c], s_g, s_gd)


@parallel_kernel
def _batch_norm_backward_blocks(grad_y, x, mean, var, weight, eps, part_g, part_gd, grad_x,
                                grad_weight, grad_bias):
    """Few channels: the work is split into (block of the N axis, channel) pairs so every
    thread has some; each pair writes its own partial sums (part_g[k, c], part_gd[k, c]),
    added up before grad_x."""
    N, C, L = x.shape
    n_blocks = part_g.shape[0]
    for u in numba.prange(n_blocks * C):
        k, c = u // C, u % C
        s_g = 0.0
        s_gd = 0.0
        for n in range(k * N // n_blocks, (k + 1) * N // n_blocks):
            s1, s2 = _plane_grad_sums(grad_y[n, c], x[n, c], mean[c])
            s_g += s1
            s_gd += s2
        part_g[k, c], part_gd[k, c] = s_g, s_gd
    for c in range(C):                    # plain loops: array expressions here would become
        for k in range(1, n_blocks):      # parfors and keep the loops around them serial
            part_g[0, c] += part_g[k, c]
            part_gd[0, c] += part_gd[k, c]
        grad_weight[c] = part_gd[0, c] / math.sqrt(np.float64(var[c]) + eps)
        grad_bias[c] = part_g[0, c]
    for u in numba.prange(n_blocks * C):          # the same pairs, so the same thread
        k, c = u // C, u % C
        _channel_grad_x(grad_y, x, grad_x, c, k * N // n_blocks, (k + 1) * N // n_blocks,
                        mean[c], 1.0 / math.sqrt(np.float64(var[c]) + eps), weight[c],
                        part_g[0, c], part_gd[0, c])


def batch_norm_backward(grad_y, x, mean, var, weight, eps):
    """grad_x = k (g - sum(g)/n - xhat sum(g xhat)/n) with k = rstd * weight and
    xhat = (x - mean) rstd, so the per-channel sums are sum(g) and sum(g (x - mean))."""
    if not fusable(x, grad_y) or x.ndim < 2 or grad_y.shape != x.shape:
        return reference.batch_norm_backward(grad_y, x, mean, var, weight, eps)
    x3, g3 = _ncl(x), _ncl(grad_y)
    N, C, L = x3.shape
    grad_x = np.empty_like(x3)
    grad_weight, grad_bias = np.empty(C, x.dtype), np.empty(C, x.dtype)
    args = (g3, x3, np.asarray(mean, x.dtype), np.asarray(var, x.dtype),
            _or_fill(weight, C, 1, x.dtype), float(eps))
    n_blocks = max(1, min(N, -(-row_blocks(N) // C)))     # enough (block, channel) pairs
    if n_blocks == 1:
        launch(_batch_norm_backward_channels, x3.size, *args, grad_x, grad_weight, grad_bias)
    else:
        part_g, part_gd = np.empty((n_blocks, C)), np.empty((n_blocks, C))
        launch(_batch_norm_backward_blocks, x3.size, *args, part_g, part_gd, grad_x,
               grad_weight, grad_bias)
    return grad_x.reshape(x.shape), None if weight is None else grad_weight, grad_bias
