"""Numba twins of the row kernels in ``reference.py``: softmax and log_softmax with their
backwards, the causal softmax and cross-entropy. Each row is one prange iteration that reads
its values a few times while they sit in cache, each pass a loop LLVM turns into SIMD code;
sums are kept in float64."""

import math

import numba
import numpy as np

from tinygen.kernels import reference
from tinygen.kernels.cpu_math import fusable, launch, parallel_kernel, rows
from tinygen.kernels.cpu_vecmath import exp, row_dot, row_max, row_sum


@parallel_kernel
def _softmax_rows(x, out, log, scale, shift, period, causal):
    """out = softmax (or log_softmax when ``log``) of scale * x (scale > 0) over the first
    ``shift + r % period + 1`` entries of row r, 0 past them. Plain rows see all D entries
    (shift = D - 1, period = 1); the rows of causal (T, S) blocks use shift = S - T, period = T,
    and with ``causal`` a row whose visible entries are all -inf gives zeros (as the
    reference does), where a plain row of -inf gives nan."""
    n_rows, width = x.shape
    zero = x.dtype.type(0)
    scale = x.dtype.type(scale)
    for r in numba.prange(n_rows):
        seen = min(width, max(0, shift + r % period + 1))
        row, o = x[r, :seen], out[r]
        m = scale * row_max(row, zero)                  # the max of scale * x, as scale > 0
        for j in range(seen):
            o[j] = exp(scale * row[j] - m)
        total = row_sum(o[:seen])
        if log:
            log_total = x.dtype.type(math.log(total))
            for j in range(seen):
                o[j] = (scale * row[j] - m) - log_total
        else:
            inv = x.dtype.type(0.0 if causal and total == 0 else 1.0 / total)
            for j in range(seen):
                o[j] = o[j] * inv
        for j in range(seen, width):
            o[j] = zero


@parallel_kernel
def _softmax_backward_rows(y, grad_y, out, log):
    """softmax: out = y (g - sum(g y));  log_softmax: out = g - exp(y) sum(g)."""
    n_rows, width = y.shape
    for r in numba.prange(n_rows):
        yr, g, o = y[r], grad_y[r], out[r]
        if log:
            total = y.dtype.type(row_sum(g))
            for j in range(width):
                o[j] = g[j] - exp(yr[j]) * total
        else:
            total = y.dtype.type(row_dot(g, yr))
            for j in range(width):
                o[j] = yr[j] * (g[j] - total)


def _rowwise(x, log, scale=1.0, causal_block=None):
    """Run the softmax kernel over x's rows (causal: over (T, S) blocks, causal_block = (T, S))
    and give the result x's shape."""
    x2 = rows(x)
    out = np.empty_like(x2)
    T, S = causal_block or (1, x2.shape[1])
    launch(_softmax_rows, x2.size, x2, out, log, float(scale), S - T, T,
           causal_block is not None)
    return out.reshape(x.shape)


def softmax(x):
    if not fusable(x):
        return reference.softmax(x)
    return _rowwise(x, False)


def log_softmax(x):
    if not fusable(x):
        return reference.log_softmax(x)
    return _rowwise(x, True)


def _backward(y, grad_y, log):
    y2, g2 = rows(y), rows(grad_y, y.dtype)
    out = np.empty_like(y2)
    launch(_softmax_backward_rows, y2.size, y2, g2, out, log)
    return out.reshape(y.shape)


def softmax_backward(y, grad_y):
    if not fusable(y, grad_y) or y.shape != grad_y.shape:
        return reference.softmax_backward(y, grad_y)
    return _backward(y, grad_y, False)


def log_softmax_backward(y, grad_y):
    if not fusable(y, grad_y) or y.shape != grad_y.shape:
        return reference.log_softmax_backward(y, grad_y)
    return _backward(y, grad_y, True)


def causal_softmax(scores, scale):
    """Row i of each (T, S) block of scores (..., T, S) keeps its first S - T + i + 1 keys."""
    if not fusable(scores) or scores.ndim < 2 or not scale > 0:
        return reference.causal_softmax(scores, scale)
    return _rowwise(scores, False, scale, scores.shape[-2:])


@parallel_kernel
def _cross_entropy_rows(logits, target, ignore_index, loss, grad):
    """Per row: loss = logsumexp - logit[t], grad = softmax - onehot(t); ignored rows get 0."""
    n_rows, n_classes = logits.shape
    zero = logits.dtype.type(0)
    for r in numba.prange(n_rows):
        t, row, g = target[r], logits[r], grad[r]
        m = row_max(row, zero)
        kept = t != ignore_index
        for j in range(n_classes):
            g[j] = exp(row[j] - m)
        total = row_sum(g)
        inv = logits.dtype.type(1.0 / total if kept else 0.0)
        for j in range(n_classes):
            g[j] = g[j] * inv
        if kept:
            loss[r] = math.log(total) - (row[t] - m)
            g[t] -= 1
        else:
            loss[r] = zero


def cross_entropy(logits, target, ignore_index=-100):
    if not fusable(logits) or logits.ndim != 2:
        return reference.cross_entropy(logits, target, ignore_index)
    reference._check_cross_entropy(logits, target, ignore_index)
    logits2 = rows(logits)
    loss = np.empty(logits2.shape[0], logits.dtype)
    grad = np.empty_like(logits2)
    launch(_cross_entropy_rows, logits2.size, logits2, np.ascontiguousarray(target, np.int64),
           int(ignore_index), loss, grad)
    return loss, grad
