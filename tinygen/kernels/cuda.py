"""CuPy twins of ``reference.py``: same names, same signatures, equal results on the GPU.

Elementwise kernels (activations, bias + activation, binary cross-entropy, the Adam update, the
batch-norm affine step) are ``cupy.ElementwiseKernel``s: one launch over every element, any
strides, broadcasting for per-channel vectors, and no temporaries. Batch-norm statistics are
``cupy.ReductionKernel``s over N and L; im2col/col2im run one thread per output element, col2im
gathering every window that covers its pixel so that no atomics are needed. The row kernels
(softmax family, cross-entropy, layer norm) live in ``cuda_rows.py`` and are re-exported here.
Every kernel is built on first use; importing this module imports nothing from CuPy.
"""

import functools
import math

import numpy as np

from tinygen.kernels.cuda_rows import (causal_softmax, cross_entropy, grad_weight_kernel,
                                       layer_norm, layer_norm_backward, log_softmax,
                                       log_softmax_backward, softmax, softmax_backward)
from tinygen.kernels.reference import ACTIVATIONS, _check_approximate, _conv_geometry

__all__ = [
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward", "causal_softmax",
    "cross_entropy", "bce_with_logits", "bce_with_logits_backward",
    "layer_norm", "layer_norm_backward", "batch_norm", "batch_norm_eval", "batch_norm_backward",
    "gelu", "gelu_backward", "leaky_relu", "leaky_relu_backward", "relu_backward", "bias_act",
    "bias_act_backward", "im2col", "col2im", "adam_step",
]

# Device functions of every elementwise kernel, each the formula its reference twin cites.
_PREAMBLE = r"""
template <typename T> __device__ T tg_gelu_erf(T z) {
    return (T)0.5 * z * ((T)1 + erf(z * (T)0.7071067811865476));
}
template <typename T> __device__ T tg_gelu_erf_grad(T z) {          // Phi(z) + z phi(z)
    return (T)0.5 * ((T)1 + erf(z * (T)0.7071067811865476))
        + z * (T)0.3989422804014327 * exp((T)-0.5 * z * z);
}
template <typename T> __device__ T tg_gelu_tanh(T z) {
    T t = tanh((T)0.7978845608028654 * (z + (T)0.044715 * z * z * z));
    return (T)0.5 * z * ((T)1 + t);
}
template <typename T> __device__ T tg_gelu_tanh_grad(T z) {
    T t = tanh((T)0.7978845608028654 * (z + (T)0.044715 * z * z * z));
    return (T)0.5 * ((T)1 + t)
        + (T)0.5 * z * ((T)1 - t * t) * (T)0.7978845608028654 * ((T)1 + (T)0.134145 * z * z);
}
template <typename T> __device__ T tg_softplus(T z) {               // log(1 + exp(z))
    return (z > (T)0 ? z : (T)0) + log1p(exp(-fabs(z)));
}
template <typename T> __device__ T tg_sigmoid(T z) {                // never overflows
    return (T)0.5 * ((T)1 + tanh((T)0.5 * z));
}
"""
# f(z) and gy * f'(z) of each activation; ns is the negative slope. ReLU selects rather than
# multiplies, as PyTorch's threshold_backward: a nan passes, and an inf gradient where the unit
# is off gives 0, not inf * 0.
_FORWARD = {"identity": "z", "relu": "z <= (T)0 ? (T)0 : z", "leaky_relu": "z > (T)0 ? z : z * ns",
            "gelu": "tg_gelu_erf(z)", "gelu_tanh": "tg_gelu_tanh(z)"}
_BACKWARD = {"identity": "gy", "relu": "z <= (T)0 ? (T)0 : gy",
             "leaky_relu": "z > (T)0 ? gy : gy * ns", "gelu": "gy * tg_gelu_erf_grad(z)",
             "gelu_tanh": "gy * tg_gelu_tanh_grad(z)"}


def _cupy():
    import cupy
    return cupy


def _check_float(x):
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"CUDA kernels take float32 or float64 arrays, got {x.dtype}")
    return x.dtype.type


@functools.cache
def _activation_kernel(activation, with_bias, backward):
    """out = f(z) or grad_y * f'(z), z = x (+ bias broadcast over the last axis)."""
    inputs = "T x" + (", T b" if with_bias else "") + (", T gy" if backward else "") + ", T ns"
    body = ("T z = x + b; " if with_bias else "T z = x; ")
    body += f"out = {(_BACKWARD if backward else _FORWARD)[activation]};"
    name = f"tinygen_{activation}{'_bias' if with_bias else ''}{'_grad' if backward else ''}"
    return _cupy().ElementwiseKernel(inputs, "T out", body, name, preamble=_PREAMBLE)


def _gelu_name(approximate):
    if approximate == "tanh":
        return "gelu_tanh"
    _check_approximate(approximate)
    return "gelu"


def _checked(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: expected one of {ACTIVATIONS}")
    return activation


def gelu(x, approximate="none"):
    """GELU, exact (erf) or tanh form, in one pass."""
    t = _check_float(x)
    return _activation_kernel(_gelu_name(approximate), False, False)(x, t(0))


def gelu_backward(x, grad_y, approximate="none"):
    """grad_y * GELU'(x), in one pass."""
    t = _check_float(x)
    return _activation_kernel(_gelu_name(approximate), False, True)(
        x, grad_y.astype(x.dtype, copy=False), t(0))


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x."""
    t = _check_float(x)
    return _activation_kernel("leaky_relu", False, False)(x, t(negative_slope))


def leaky_relu_backward(x, grad_y, negative_slope=0.01):
    """grad_y where x > 0, else negative_slope * grad_y."""
    t = _check_float(x)
    return _activation_kernel("leaky_relu", False, True)(
        x, grad_y.astype(x.dtype, copy=False), t(negative_slope))


def relu_backward(y, grad_y):
    """0 where y <= 0, else grad_y, in one pass."""
    t = _check_float(y)
    return _activation_kernel("relu", False, True)(y, grad_y.astype(y.dtype, copy=False), t(0))


def _check_bias(x, bias):
    if bias.shape != x.shape[-1:]:
        raise ValueError(f"bias_act expects bias of shape {tuple(x.shape[-1:])} for x of shape "
                         f"{tuple(x.shape)}, got {tuple(bias.shape)}")
    return bias.astype(x.dtype, copy=False)


def bias_act(x, bias, activation, negative_slope=0.01):
    """activation(x + bias) for x (..., C) and bias (C,), in one pass."""
    t = _check_float(x)
    kernel = _activation_kernel(_checked(activation), True, False)
    return kernel(x, _check_bias(x, bias), t(negative_slope))


def bias_act_backward(x, bias, grad_y, activation, negative_slope=0.01):
    """(grad_x, grad_bias): grad_x in one pass recomputing z = x + bias, grad_bias its column
    sums."""
    t = _check_float(x)
    kernel = _activation_kernel(_checked(activation), True, True)
    grad_x = kernel(x, _check_bias(x, bias), grad_y.astype(x.dtype, copy=False),
                    t(negative_slope))
    return grad_x, grad_x.reshape(-1, x.shape[-1]).sum(axis=0)


@functools.cache
def _bce_kernel(weighted, backward):
    """Binary cross-entropy with logits or its gradient; pw = pos_weight or 1."""
    pw = "pw" if weighted else "(T)1"
    inputs = "T x, T y" + (", T pw" if weighted else "") + (", T g" if backward else "")
    if backward:
        body = f"out = g * (tg_sigmoid(x) * ({pw} * y + (T)1 - y) - {pw} * y);"
    else:
        body = f"out = {pw} * y * tg_softplus(-x) + ((T)1 - y) * tg_softplus(x);"
    name = f"tinygen_bce{'_weighted' if weighted else ''}{'_grad' if backward else ''}"
    return _cupy().ElementwiseKernel(inputs, "T out", body, name, preamble=_PREAMBLE)


def _bce_args(x, y, pos_weight):
    _check_float(x)
    args = [x, y.astype(x.dtype, copy=False)]
    return args if pos_weight is None else args + [pos_weight.astype(x.dtype, copy=False)]


def bce_with_logits(x, y, pos_weight=None):
    """pw y softplus(-x) + (1 - y) softplus(x), elementwise in one pass."""
    return _bce_kernel(pos_weight is not None, False)(*_bce_args(x, y, pos_weight))


def bce_with_logits_backward(x, y, grad, pos_weight=None):
    """grad * (sigmoid(x) (pw y + 1 - y) - pw y), in one pass."""
    args = _bce_args(x, y, pos_weight) + [grad.astype(x.dtype, copy=False)]
    return _bce_kernel(pos_weight is not None, True)(*args)


@functools.cache
def _adam_kernel(amsgrad, decoupled, maximize):
    """One Adam/AdamW step over every element; p, m, v (and vmax) are updated in place."""
    lines = ["T grad = " + ("-g;" if maximize else "g;")]
    lines.append("p = p * decay;" if decoupled else "grad = grad + wd * p;")
    lines += ["m = m + (grad - m) * one_minus_beta1;",          # PyTorch's lerp form
              "v = v * beta2 + one_minus_beta2 * grad * grad;"]
    if amsgrad:
        lines.append("vmax = v > vmax ? v : vmax;")
    second = "vmax" if amsgrad else "v"
    lines.append(f"p = p - step_size * m / (sqrt({second}) / bc2_sqrt + eps);")
    outputs = "T p, T m, T v" + (", T vmax" if amsgrad else "")
    inputs = ("T g, T wd, T decay, T one_minus_beta1, T beta2, T one_minus_beta2, T eps, "
              "T step_size, T bc2_sqrt")
    name = (f"tinygen_adam{'w' if decoupled else ''}{'_amsgrad' if amsgrad else ''}"
            f"{'_maximize' if maximize else ''}")
    return _cupy().ElementwiseKernel(inputs, outputs, "\n".join(lines), name)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, step, lr, beta1,
              beta2, eps, weight_decay, decoupled, amsgrad, maximize=False):
    """One Adam (decoupled=False) or AdamW (decoupled=True) update in a single launch, in place
    on param, exp_avg, exp_avg_sq and, with amsgrad, max_exp_avg_sq."""
    t = _check_float(param)
    if amsgrad and max_exp_avg_sq is None:
        raise ValueError("adam_step with amsgrad=True needs max_exp_avg_sq")
    # The scalars are rounded once from Python floats, as the reference's are.
    scalars = [t(v) for v in (weight_decay, 1 - lr * weight_decay, 1 - beta1, beta2, 1 - beta2,
                              eps, lr / (1 - beta1**step), math.sqrt(1 - beta2**step))]
    outputs = [param, exp_avg, exp_avg_sq] + ([max_exp_avg_sq] if amsgrad else [])
    kernel = _adam_kernel(bool(amsgrad), bool(decoupled), bool(maximize))
    kernel(grad.astype(param.dtype, copy=False), *scalars, *outputs)


@functools.cache
def _square_dev_kernel():
    """sum of (x - mean)^2 over the reduced axes."""
    return _cupy().ReductionKernel("T x, T mean", "T out", "(x - mean) * (x - mean)", "a + b",
                                   "out = a", "0", "tinygen_sum_square_dev")


@functools.cache
def _affine_kernel():
    """y = (x - mean) * a + b with per-channel mean, a = rstd * weight, b = bias."""
    return _cupy().ElementwiseKernel("T x, T mean, T a, T b", "T y", "y = (x - mean) * a + b",
                                     "tinygen_norm_affine")


@functools.cache
def _batch_norm_grad_kernel():
    """grad_x = a (grad_y - mean(grad_y) - xhat mean(grad_y xhat)), a = rstd * weight."""
    body = "gx = a * (gy - mean_gy - (x - mean) * rstd * mean_gy_xhat)"
    return _cupy().ElementwiseKernel("T gy, T x, T mean, T rstd, T a, T mean_gy, T mean_gy_xhat",
                                     "T gx", body, "tinygen_batch_norm_grad")


def _channels(x):
    """x as a contiguous (N, C, L) array, L the product of the trailing axes (1 if none)."""
    if x.ndim < 2:
        raise ValueError(f"batch norm expects (N, C, ...) input, got shape {tuple(x.shape)}")
    _check_float(x)
    return _cupy().ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)


def _column(v, dtype):
    """A (C,) vector as (C, 1) of the given dtype, to broadcast over (N, C, L)."""
    return v.astype(dtype, copy=False).reshape(-1, 1)


def _affine(x3, mean, rstd, weight, bias):
    cupy = _cupy()
    a = rstd if weight is None else rstd * weight.astype(x3.dtype, copy=False)
    b = cupy.zeros_like(mean) if bias is None else bias
    return _affine_kernel()(x3, _column(mean, x3.dtype), _column(a, x3.dtype),
                            _column(b, x3.dtype))


def batch_norm(x, weight, bias, eps):
    """Training-mode batch norm of x (N, C, ...): (y, mean (C,), var (C,)), var biased."""
    x3 = _channels(x)
    n = x3.shape[0] * x3.shape[2]
    mean = x3.mean(axis=(0, 2))
    var = _square_dev_kernel()(x3, mean[:, None], axis=(0, 2)) / x3.dtype.type(n)
    rstd = 1 / _cupy().sqrt(var + x3.dtype.type(eps))
    return _affine(x3, mean, rstd, weight, bias).reshape(x.shape), mean, var


def batch_norm_eval(x, running_mean, running_var, weight, bias, eps):
    """(x - running_mean) / sqrt(running_var + eps) * weight + bias, in one pass."""
    x3 = _channels(x)
    rstd = 1 / _cupy().sqrt(running_var.astype(x3.dtype) + x3.dtype.type(eps))
    return _affine(x3, running_mean.astype(x3.dtype), rstd, weight, bias).reshape(x.shape)


def batch_norm_backward(grad_y, x, mean, var, weight, eps):
    """Training-mode backward: per-channel sums of grad_y and grad_y * xhat, then grad_x in one
    elementwise pass."""
    x3 = _channels(x)
    t = x3.dtype.type
    n = x3.shape[0] * x3.shape[2]
    g3 = _cupy().ascontiguousarray(grad_y, dtype=x3.dtype).reshape(x3.shape)
    mean, var = mean.astype(x3.dtype, copy=False), var.astype(x3.dtype, copy=False)
    rstd = 1 / _cupy().sqrt(var + t(eps))
    grad_bias = g3.sum(axis=(0, 2))
    grad_xhat_sum = grad_weight_kernel()(g3, x3, mean[:, None], rstd[:, None], axis=(0, 2))
    a = rstd if weight is None else rstd * weight.astype(x3.dtype, copy=False)
    grad_x = _batch_norm_grad_kernel()(
        g3, x3, _column(mean, x3.dtype), _column(rstd, x3.dtype), _column(a, x3.dtype),
        _column(grad_bias / t(n), x3.dtype), _column(grad_xhat_sum / t(n), x3.dtype))
    grad_weight = None if weight is None else grad_xhat_sum
    return grad_x.reshape(x.shape), grad_weight, grad_bias


_GEOMETRY = ("int32 H, int32 W, int32 OH, int32 OW, int32 kh, int32 kw, int32 sh, int32 sw, "
             "int32 ph, int32 pw, int32 dh, int32 dw")

# Thread i writes cols[n, (c*kh + ki)*kw + kj, oh*OW + ow], flat index
# ((((n*C + c)*kh + ki)*kw + kj)*OH + oh)*OW + ow, read from the zero-padded input.
_IM2COL = """
ptrdiff_t ow = i % OW, rest = i / OW;
ptrdiff_t oh = rest % OH; rest /= OH;
int kj = rest % kw; rest /= kw;
int ki = rest % kh; rest /= kh;
ptrdiff_t hi = oh * sh - ph + ki * dh, wi = ow * sw - pw + kj * dw;
cols = (hi >= 0 && hi < H && wi >= 0 && wi < W) ? img[(rest * H + hi) * W + wi] : (T)0;
"""

# Thread i owns pixel (n*C + c, hi, wi) and sums every window position that read it: kernel
# row ki covers it from output row oh when hi + ph - ki*dh = oh*sh, 0 <= oh < OH (same for w).
_COL2IM = """
ptrdiff_t wi = i % W, rest = i / W;
ptrdiff_t hi = rest % H; rest /= H;
T acc = 0;
for (int ki = 0; ki < kh; ++ki) {
    ptrdiff_t hs = hi + ph - ki * dh;
    if (hs < 0 || hs % sh != 0 || hs / sh >= OH) continue;
    for (int kj = 0; kj < kw; ++kj) {
        ptrdiff_t ws = wi + pw - kj * dw;
        if (ws < 0 || ws % sw != 0 || ws / sw >= OW) continue;
        acc += cols[(((rest * kh + ki) * kw + kj) * OH + hs / sh) * OW + ws / sw];
    }
}
img = acc;
"""


@functools.cache
def _im2col_kernel():
    return _cupy().ElementwiseKernel(f"raw T img, {_GEOMETRY}", "T cols", _IM2COL,
                                     "tinygen_im2col")


@functools.cache
def _col2im_kernel():
    return _cupy().ElementwiseKernel(f"raw T cols, {_GEOMETRY}", "T img", _COL2IM,
                                     "tinygen_col2im")


def _geometry_args(H, W, OH, OW, kernel_size, stride, padding, dilation):
    return [np.int32(v) for v in (H, W, OH, OW, *kernel_size, *stride, *padding, *dilation)]


def im2col(x, kernel_size, stride, padding, dilation):
    """cols (N, C*kh*kw, OH*OW) of x (N, C, H, W), one thread per element of cols."""
    _check_float(x)
    N, C, H, W = x.shape
    OH, OW = _conv_geometry(x.shape, kernel_size, stride, padding, dilation)
    kh, kw = kernel_size
    cols = _cupy().empty((N, C * kh * kw, OH * OW), x.dtype)
    geometry = _geometry_args(H, W, OH, OW, kernel_size, stride, padding, dilation)
    _im2col_kernel()(_cupy().ascontiguousarray(x), *geometry, cols)
    return cols


def col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    """The adjoint of im2col: each pixel gathers the window entries that read it (overlaps
    accumulate, padding is dropped), one thread per pixel."""
    _check_float(cols)
    N, C, H, W = input_shape
    OH, OW = _conv_geometry(input_shape, kernel_size, stride, padding, dilation)
    kh, kw = kernel_size
    if tuple(cols.shape) != (N, C * kh * kw, OH * OW):
        raise ValueError(f"col2im expects cols of shape {(N, C * kh * kw, OH * OW)} for input "
                         f"{tuple(input_shape)}, got {tuple(cols.shape)}")
    img = _cupy().empty((N, C, H, W), cols.dtype)
    geometry = _geometry_args(H, W, OH, OW, kernel_size, stride, padding, dilation)
    _col2im_kernel()(_cupy().ascontiguousarray(cols), *geometry, img)
    return img
