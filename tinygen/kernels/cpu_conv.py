"""Numba twins of im2col and col2im (``reference.py`` is the spec).

The columns live in memory batch-in-the-middle, as a C-contiguous (C*kh*kw, N, OH*OW) buffer;
im2col returns it as the (N, C*kh*kw, OH*OW) array of the contract, a transposed view. The
convolutions read that buffer as the one (C*kh*kw, N*OH*OW) matrix their GEMM wants, without a
copy and without wasted columns. col2im reads grad columns in that layout or in the plain
C-contiguous (N, C*kh*kw, OH*OW) one without a copy (any other layout is copied first).

im2col writes each row of the buffer (one channel at one kernel offset, all samples) in one
prange step. col2im is its adjoint: every (n, c) image plane is owned by one prange step, which
adds in all the windows that touch it, so overlapping windows accumulate without two threads
sharing a value. Bounds are worked out once per kernel offset, so im2col copies the inside of
each output row and zero-fills its padded ends in separate loops, with no test per element; the
loops index the arrays element by element: rows are short (OW), and slicing them into views
costs more than the copy. The indices are unsigned, which spares Numba's negative-index test,
so the rows vectorize. im2col writes the fresh output once and nothing zero-fills it first: its
first-touch page faults, most of its time at large sizes, fall in the parallel loop, on both
threads.
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


@numba.njit(**PARALLEL)
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, cols):
    N, C, H, W = x.shape
    for row in numba.prange(C * kh * kw):                   # cols: (C*kh*kw, N, OH, OW)
        c, i, j = row // (kh * kw), row // kw % kh, row % kw
        oh_lo, oh_hi = _inside(i * dh - ph, sh, H, OH)
        ow_lo, ow_hi = _inside(j * dw - pw, sw, W, OW)
        top, left = i * dh - ph, j * dw - pw
        for n in range(N):
            for oh in range(OH):
                if oh < oh_lo or oh >= oh_hi:
                    for ow in range(OW):
                        cols[row, n, oh, np.uint64(ow)] = 0         # zero padding
                    continue
                h = np.uint64(oh * sh + top)
                for ow in range(ow_lo):
                    cols[row, n, oh, np.uint64(ow)] = 0
                for ow in range(ow_lo, ow_hi):                      # indices >= 0 by _inside
                    cols[row, n, oh, np.uint64(ow)] = x[n, c, h, np.uint64(ow * sw + left)]
                for ow in range(ow_hi, OW):
                    cols[row, n, oh, np.uint64(ow)] = 0


@numba.njit(**PARALLEL)
def _col2im(cols, batch_first, kh, kw, sh, sw, ph, pw, dh, dw, x):
    """cols is C-contiguous, (N, C*kh*kw, OH, OW) when batch_first, else (C*kh*kw, N, OH, OW);
    either way each (row, n) window plane is a contiguous (OH, OW) block."""
    N, C, H, W = x.shape
    OH, OW = cols.shape[2:]
    for u in numba.prange(C * N):       # c-major: in the conv order, neighbouring steps read
                                        # neighbouring cols
        c, n = u // N, u % N
        plane = x[n, c]
        plane[:, :] = 0
        for i in range(kh):
            oh_lo, oh_hi = _inside(i * dh - ph, sh, H, OH)
            for j in range(kw):
                ow_lo, ow_hi = _inside(j * dw - pw, sw, W, OW)
                top, left, row = i * dh - ph, j * dw - pw, (c * kh + i) * kw + j
                window = cols[n, row] if batch_first else cols[row, n]
                for oh in range(oh_lo, oh_hi):
                    src, dst = window[oh], plane[oh * sh + top]
                    for ow in range(ow_lo, ow_hi):                  # indices >= 0 by _inside
                        dst[np.uint64(ow * sw + left)] += src[np.uint64(ow)]


def _geometry(kernel_size, stride, padding, dilation):
    return tuple(int(v) for pair in (kernel_size, stride, padding, dilation) for v in pair)


def im2col(x, kernel_size, stride, padding, dilation):
    if not fusable(x) or x.ndim != 4:
        return reference.im2col(x, kernel_size, stride, padding, dilation)
    N, C = x.shape[:2]
    (kh, kw), (OH, OW) = kernel_size, reference._conv_geometry(
        x.shape, kernel_size, stride, padding, dilation)
    cols = np.empty((C * kh * kw, N, OH, OW), x.dtype)
    launch(_im2col, cols.size, np.ascontiguousarray(x),
           *_geometry(kernel_size, stride, padding, dilation), OH, OW, cols)
    return cols.reshape(C * kh * kw, N, OH * OW).transpose(1, 0, 2)


def col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    if not fusable(cols) or cols.ndim != 3:
        return reference.col2im(cols, input_shape, kernel_size, stride, padding, dilation)
    OH, OW = reference._check_cols(cols, input_shape, kernel_size, stride, padding, dilation)
    batch_first = not cols.transpose(1, 0, 2).flags.c_contiguous     # conv's (CK, N, L)?
    buffer = np.ascontiguousarray(cols if batch_first else cols.transpose(1, 0, 2))
    x = np.empty(tuple(input_shape), cols.dtype)
    launch(_col2im, cols.size, buffer.reshape(buffer.shape[:2] + (OH, OW)), batch_first,
           *_geometry(kernel_size, stride, padding, dilation), x)
    return x
