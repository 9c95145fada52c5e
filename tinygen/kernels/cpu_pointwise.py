"""Numba twins of the elementwise loss and optimizer kernels in ``reference.py``: binary
cross-entropy with logits (forward and backward in one kernel) and the Adam/AdamW update, each
element read and written once."""

import math

import numba
import numpy as np

from tinygen.kernels import reference
from tinygen.kernels.cpu_math import flat, fusable, launch, parallel_kernel, rows
from tinygen.kernels.cpu_vecmath import exp, log1p_unit, sigmoid


@parallel_kernel
def _bce_rows(x, y, pos_weight, grad, backward, out):
    """Forward: pw y softplus(-x) + (1 - y) softplus(x), where softplus(+-x) =
    max(+-x, 0) + log(1 + e^-|x|) share the log; backward: grad (sigmoid(x) (pw y + 1 - y) - pw y)
    with sigmoid(x) = 1 / (1 + e^-x) in x's dtype."""
    n_rows, width = x.shape
    zero, one = x.dtype.type(0), x.dtype.type(1)
    for r in numba.prange(n_rows):
        v, t, pw, g, o = x[r], y[r], pos_weight, grad[r], out[r]
        if backward:
            for j in range(width):
                positive = pw[j] * t[j]
                s = sigmoid(v[j])
                o[j] = g[j] * (s * (positive + one - t[j]) - positive)
        else:
            for j in range(width):
                a = v[j]
                shared = log1p_unit(exp(-abs(a)))
                o[j] = (pw[j] * t[j] * (max(-a, zero) + shared)
                        + (one - t[j]) * (max(a, zero) + shared))


def _bce(x, y, grad, pos_weight, backward):
    x2 = rows(x)
    out = np.empty_like(x2)
    pw = np.ones(x2.shape[1], x.dtype) if pos_weight is None else np.ascontiguousarray(
        np.broadcast_to(pos_weight, x2.shape[1:]), x.dtype)
    launch(_bce_rows, x2.size, x2, rows(np.broadcast_to(y, x.shape), x.dtype), pw,
           x2 if grad is None else rows(np.broadcast_to(grad, x.shape), x.dtype), backward, out)
    return out.reshape(x.shape)


def _bce_fusable(x, pos_weight):
    return fusable(x) and x.ndim >= 1 and (pos_weight is None or pos_weight.ndim <= 1)


def bce_with_logits(x, y, pos_weight=None):
    if not _bce_fusable(x, pos_weight):
        return reference.bce_with_logits(x, y, pos_weight)
    return _bce(x, y, None, pos_weight, False)


def bce_with_logits_backward(x, y, grad, pos_weight=None):
    if not _bce_fusable(x, pos_weight):
        return reference.bce_with_logits_backward(x, y, grad, pos_weight)
    return _bce(x, y, grad, pos_weight, True)


@parallel_kernel
def _adam_flat(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
               weight_decay, decoupled, amsgrad, maximize, bias_correction1,
               bias_correction2_sqrt):
    """reference.adam_step for every element, reading and writing each array once; the
    arithmetic runs in the parameters' dtype, as PyTorch's does."""
    t = param.dtype.type
    step_size, shrink = t(lr / bias_correction1), t(1.0 - lr * weight_decay)
    wd, one_minus_b1, b2, one_minus_b2 = t(weight_decay), t(1.0 - beta1), t(beta2), t(1 - beta2)
    root_bc2, eps = t(bias_correction2_sqrt), t(eps)
    for i in numba.prange(param.size):
        g = -grad[i] if maximize else grad[i]
        p = param[i]
        if weight_decay != 0 and decoupled:
            p = p * shrink
        elif weight_decay != 0:
            g = g + wd * p
        m = exp_avg[i] + (g - exp_avg[i]) * one_minus_b1
        v = b2 * exp_avg_sq[i] + one_minus_b2 * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] = p - step_size * m / (np.sqrt(v) / root_bc2 + eps)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, step, lr, beta1,
              beta2, eps, weight_decay, decoupled, amsgrad, maximize=False):
    state = (param, exp_avg, exp_avg_sq) + ((max_exp_avg_sq,) if amsgrad else ())
    if not (fusable(param, grad, *state) and all(a.flags.c_contiguous for a in state)
            and all(a.shape == param.shape for a in (grad,) + state)):
        return reference.adam_step(
            param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr, beta1=beta1,
            beta2=beta2, eps=eps, weight_decay=weight_decay, decoupled=decoupled,
            amsgrad=amsgrad, maximize=maximize)
    views = [a.reshape(-1) for a in state]
    launch(_adam_flat, param.size, views[0], flat(grad), views[1], views[2], views[-1],
           float(lr), float(beta1), float(beta2), float(eps), float(weight_decay),
           bool(decoupled), bool(amsgrad), bool(maximize), 1.0 - beta1**step,
           math.sqrt(1.0 - beta2**step))
