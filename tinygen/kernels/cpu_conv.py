"""Numba twins of im2col and col2im (``reference.py`` is the spec).

im2col writes each row of cols (one channel at one kernel offset) in one prange step. col2im
is its adjoint: every (n, c) image plane is owned by one prange step, which adds in all the
windows that touch it, so overlapping windows accumulate without two threads sharing a value.
Bounds are worked out once per kernel row and column, leaving the inner loops free of tests.
"""

import numba
import numpy as np

from tinygen.kernels import reference
from tinygen.kernels.cpu_math import PARALLEL, SCALAR, fusable, launch


@numba.njit(**SCALAR)
def _inside(offset, stride, size, count):
    """[lo, hi): the outputs o in [0, count) whose input o * stride + offset is in [0, size)."""
    lo = -(offset // stride)                             # ceil(-offset / stride)
    hi = -((offset - size) // stride)                    # ceil((size - offset) / stride)
    return min(max(lo, 0), count), min(max(hi, 0), count)


@numba.njit(**SCALAR)
def _copy_row(src, offset, stride, lo, hi, dst):
    """dst[o] = src[o * stride + offset] for o in [lo, hi), zeros elsewhere in dst. Loops run
    over slices from index 0, so LLVM sees no negative index and a stride of 1 vectorizes."""
    zero = dst.dtype.type(0)
    dst[:lo] = zero
    dst[hi:] = zero
    if hi > lo:
        window, inside = src[lo * stride + offset:], dst[lo:hi]
        if stride == 1:
            for t in range(hi - lo):
                inside[t] = window[t]
        else:
            for t in range(hi - lo):
                inside[t] = window[t * stride]


@numba.njit(**SCALAR)
def _add_row(src, lo, hi, dst, offset, stride):
    """dst[o * stride + offset] += src[o] for o in [lo, hi): the adjoint of _copy_row."""
    if hi > lo:
        window, inside = dst[lo * stride + offset:], src[lo:hi]
        if stride == 1:
            for t in range(hi - lo):
                window[t] += inside[t]
        else:
            for t in range(hi - lo):
                window[t * stride] += inside[t]


@numba.njit(**PARALLEL)
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, cols):
    N, C, H, W = x.shape
    for u in numba.prange(N * C * kh * kw):
        n, row = u // (C * kh * kw), u % (C * kh * kw)
        c, i, j = row // (kh * kw), row // kw % kh, row % kw
        oh_lo, oh_hi = _inside(i * dh - ph, sh, H, OH)
        ow_lo, ow_hi = _inside(j * dw - pw, sw, W, OW)
        out = cols[n, row]
        for oh in range(OH):
            line = out[oh * OW:(oh + 1) * OW]
            if oh_lo <= oh < oh_hi:
                _copy_row(x[n, c, oh * sh + i * dh - ph], j * dw - pw, sw, ow_lo, ow_hi, line)
            else:
                line[:] = 0                                        # a row of zero padding


@numba.njit(**PARALLEL)
def _col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, x):
    N, C, H, W = x.shape
    for u in numba.prange(N * C):
        n, c = u // C, u % C
        plane = x[n, c]
        plane[:, :] = 0
        for i in range(kh):
            oh_lo, oh_hi = _inside(i * dh - ph, sh, H, OH)
            for j in range(kw):
                ow_lo, ow_hi = _inside(j * dw - pw, sw, W, OW)
                window = cols[n, (c * kh + i) * kw + j]
                for oh in range(oh_lo, oh_hi):
                    _add_row(window[oh * OW:(oh + 1) * OW], ow_lo, ow_hi,
                             plane[oh * sh + i * dh - ph], j * dw - pw, sw)


def _geometry(kernel_size, stride, padding, dilation):
    return tuple(int(v) for pair in (kernel_size, stride, padding, dilation) for v in pair)


def im2col(x, kernel_size, stride, padding, dilation):
    if not fusable(x) or x.ndim != 4:
        return reference.im2col(x, kernel_size, stride, padding, dilation)
    N, C = x.shape[:2]
    (kh, kw), (OH, OW) = kernel_size, reference._conv_geometry(
        x.shape, kernel_size, stride, padding, dilation)
    cols = np.empty((N, C * kh * kw, OH * OW), x.dtype)
    launch(_im2col, cols.size, np.ascontiguousarray(x),
           *_geometry(kernel_size, stride, padding, dilation), OH, OW, cols)
    return cols


def col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    if not fusable(cols) or cols.ndim != 3:
        return reference.col2im(cols, input_shape, kernel_size, stride, padding, dilation)
    OH, OW = reference._check_cols(cols, input_shape, kernel_size, stride, padding, dilation)
    x = np.empty(tuple(input_shape), cols.dtype)
    launch(_col2im, cols.size, np.ascontiguousarray(cols),
           *_geometry(kernel_size, stride, padding, dilation), OH, OW, x)
    return x
