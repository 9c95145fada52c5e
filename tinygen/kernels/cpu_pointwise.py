"""Numba twins of the elementwise kernels in ``reference.py``: GELU, leaky ReLU, bias-add plus
activation, binary cross-entropy with logits, and the Adam/AdamW update.

One scalar function per formula (``_act``, ``_act_slope``) is shared by every kernel that needs
it; the activation is picked by a small integer code, so one compiled kernel serves them all.
"""

import math

import numba
import numpy as np

from tinygen.kernels import reference
from tinygen.kernels.cpu_math import PARALLEL, SCALAR, flat, fusable, launch, row_blocks, rows
from tinygen.kernels.cpu_vecmath import exp, sigmoid, softplus
from tinygen.kernels.reference import INV_SQRT_2, INV_SQRT_2PI, SQRT_2_OVER_PI

IDENTITY, LEAKY_RELU, GELU, GELU_TANH = range(4)
_CODES = {"identity": IDENTITY, "relu": LEAKY_RELU, "leaky_relu": LEAKY_RELU, "gelu": GELU,
          "gelu_tanh": GELU_TANH}


@numba.njit(**SCALAR)
def _act(z, code, slope):
    """activation(z) for the activation ``code``. The tanh GELU uses
    0.5 z (1 + tanh(u)) = z sigmoid(2u), which needs one exp and no tanh."""
    if code == LEAKY_RELU:
        return z if z > 0 else z * slope
    if code == GELU:
        return 0.5 * z * (1.0 + math.erf(z * INV_SQRT_2))
    if code == GELU_TANH:
        return z * sigmoid(2.0 * SQRT_2_OVER_PI * (z + 0.044715 * z * z * z))
    return z + 0.0


@numba.njit(**SCALAR)
def _act_slope(z, code, slope):
    """d activation / dz at z (reference.gelu_backward has the GELU forms); for the tanh GELU,
    with s = sigmoid(2u): 0.5 (1 + tanh u) = s and 1 - tanh(u)^2 = 4 s (1 - s)."""
    if code == LEAKY_RELU:
        return 1.0 if z > 0 else slope
    if code == GELU:
        return 0.5 * (1.0 + math.erf(z * INV_SQRT_2)) + z * INV_SQRT_2PI * exp(-0.5 * z * z)
    if code == GELU_TANH:
        s = sigmoid(2.0 * SQRT_2_OVER_PI * (z + 0.044715 * z * z * z))
        return s + 2.0 * z * s * (1.0 - s) * SQRT_2_OVER_PI * (1.0 + 0.134145 * z * z)
    return 1.0


@numba.njit(**PARALLEL)
def _act_flat(x, code, slope, out):
    for i in numba.prange(x.size):
        out[i] = _act(x[i], code, slope)


@numba.njit(**PARALLEL)
def _act_backward_flat(x, grad_y, code, slope, out):
    for i in numba.prange(x.size):
        out[i] = grad_y[i] * _act_slope(x[i], code, slope)


def _activation(x, code, slope):
    out = np.empty(x.shape, x.dtype)
    launch(_act_flat, x.size, flat(x), code, float(slope), out.reshape(-1))
    return out


def _activation_backward(x, grad_y, code, slope):
    out = np.empty(x.shape, x.dtype)
    launch(_act_backward_flat, x.size, flat(x), flat(grad_y), code, float(slope), out.reshape(-1))
    return out


def gelu(x, approximate="none"):
    if not fusable(x) or approximate not in ("none", "tanh"):
        return reference.gelu(x, approximate)
    return _activation(x, GELU_TANH if approximate == "tanh" else GELU, 0.0)


def gelu_backward(x, grad_y, approximate="none"):
    if not fusable(x, grad_y) or approximate not in ("none", "tanh") or x.shape != grad_y.shape:
        return reference.gelu_backward(x, grad_y, approximate)
    return _activation_backward(x, grad_y, GELU_TANH if approximate == "tanh" else GELU, 0.0)


def leaky_relu(x, negative_slope=0.01):
    if not fusable(x):
        return reference.leaky_relu(x, negative_slope)
    return _activation(x, LEAKY_RELU, negative_slope)


def leaky_relu_backward(x, grad_y, negative_slope=0.01):
    if not fusable(x, grad_y) or x.shape != grad_y.shape:
        return reference.leaky_relu_backward(x, grad_y, negative_slope)
    return _activation_backward(x, grad_y, LEAKY_RELU, negative_slope)


@numba.njit(**PARALLEL)
def _bias_act_rows(x, bias, code, slope, out):
    n_rows, width = x.shape
    for r in numba.prange(n_rows):
        for j in range(width):
            out[r, j] = _act(x[r, j] + bias[j], code, slope)


@numba.njit(**PARALLEL)
def _bias_act_backward_rows(x, bias, grad_y, code, slope, grad_x, part_bias):
    """grad_x per element; block k of rows adds its grad_x into part_bias[k]."""
    n_rows, width = x.shape
    n_blocks = part_bias.shape[0]
    for k in numba.prange(n_blocks):
        for r in range(k * n_rows // n_blocks, (k + 1) * n_rows // n_blocks):
            for j in range(width):
                g = grad_y[r, j] * _act_slope(x[r, j] + bias[j], code, slope)
                grad_x[r, j] = g
                part_bias[k, j] += g


def _bias_act_fusable(x, bias, activation, *more):
    return (fusable(x, bias, *more) and activation in _CODES and x.ndim >= 1
            and bias.shape == x.shape[-1:] and all(a.shape == x.shape for a in more))


def bias_act(x, bias, activation, negative_slope=0.01):
    if not _bias_act_fusable(x, bias, activation):
        return reference.bias_act(x, bias, activation, negative_slope)
    x2 = rows(x)
    out = np.empty_like(x2)
    launch(_bias_act_rows, x2.size, x2, flat(bias), _CODES[activation],
           _slope(activation, negative_slope), out)
    return out.reshape(x.shape)


def bias_act_backward(x, bias, grad_y, activation, negative_slope=0.01):
    if not _bias_act_fusable(x, bias, activation, grad_y):
        return reference.bias_act_backward(x, bias, grad_y, activation, negative_slope)
    x2 = rows(x)
    grad_x = np.empty_like(x2)
    part = np.zeros((row_blocks(x2.shape[0]), x2.shape[1]))
    launch(_bias_act_backward_rows, x2.size, x2, flat(bias), rows(grad_y), _CODES[activation],
           _slope(activation, negative_slope), grad_x, part)
    return grad_x.reshape(x.shape), part.sum(axis=0).astype(x.dtype)


def _slope(activation, negative_slope):
    return 0.0 if activation == "relu" else float(negative_slope)


@numba.njit(**PARALLEL)
def _bce_rows(x, y, pos_weight, grad, backward, out):
    """Forward: pw y softplus(-x) + (1 - y) softplus(x);
    backward: grad (sigmoid(x) (pw y + 1 - y) - pw y)."""
    n_rows, width = x.shape
    for r in numba.prange(n_rows):
        for j in range(width):
            v, t = x[r, j], y[r, j]
            positive = pos_weight[j] * t
            if backward:
                out[r, j] = grad[r, j] * (sigmoid(v) * (positive + 1.0 - t) - positive)
            else:
                out[r, j] = positive * softplus(-v) + (1.0 - t) * softplus(v)


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


@numba.njit(**PARALLEL)
def _adam_flat(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
               weight_decay, decoupled, amsgrad, maximize, bias_correction1,
               bias_correction2_sqrt):
    """reference.adam_step for every element, reading and writing each array once."""
    for i in numba.prange(param.size):
        g = -grad[i] if maximize else grad[i] + 0.0
        p = param[i] + 0.0
        if weight_decay != 0 and decoupled:
            p *= 1.0 - lr * weight_decay
        elif weight_decay != 0:
            g += weight_decay * p
        m = exp_avg[i] + (g - exp_avg[i]) * (1.0 - beta1)
        v = beta2 * exp_avg_sq[i] + (1.0 - beta2) * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], exp_avg_sq[i])
            max_exp_avg_sq[i] = v
        param[i] = p - (lr / bias_correction1) * m / (math.sqrt(v) / bias_correction2_sqrt
                                                       + eps)


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
