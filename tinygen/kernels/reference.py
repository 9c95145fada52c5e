"""The kernels as plain xp (NumPy or CuPy) code: the specification the fused twins must equal.

Every function takes raw arrays of one device, float32 or float64, contiguous or not, and returns
fresh arrays of the input's dtype. Reductions run over the last axis ("rows") unless stated.
Each is written to read like its formula and to stay finite where the formula would overflow
(logits of +-1e4, rows of constant value).
"""

import itertools
import math

import numpy as np

from tinygen import device_checks
from tinygen.backend import get_array_module

SQRT_2_OVER_PI = 0.7978845608028654        # sqrt(2 / pi), the tanh-GELU constant
INV_SQRT_2 = 0.7071067811865476            # 1 / sqrt(2)
INV_SQRT_2PI = 0.3989422804014327          # 1 / sqrt(2 pi), the standard normal density at 0
ACTIVATIONS = ("identity", "relu", "leaky_relu", "gelu", "gelu_tanh")


def _row_max(x):
    """The max of each row (kept as a size-1 last axis), with infinities replaced by 0 so that
    x - max never overflows and a row of -inf stays -inf rather than becoming nan."""
    xp = get_array_module(x)
    if x.shape[-1] == 0:
        return xp.zeros(x.shape[:-1] + (1,), x.dtype)
    m = x.max(axis=-1, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)


def softmax(x):
    """y = exp(x - max) / sum(exp(x - max)) over the last axis."""
    e = get_array_module(x).exp(x - _row_max(x))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(y, grad_y):
    """grad_x = y * (grad_y - sum(grad_y * y)): the softmax Jacobian applied to grad_y."""
    return y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True))


def log_softmax(x):
    """y = (x - max) - log(sum(exp(x - max))) over the last axis."""
    xp = get_array_module(x)
    shifted = x - _row_max(x)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def log_softmax_backward(y, grad_y):
    """grad_x = grad_y - softmax(x) * sum(grad_y), with softmax(x) = exp(y)."""
    return grad_y - get_array_module(y).exp(y) * grad_y.sum(axis=-1, keepdims=True)


def causal_mask(xp, T, S):
    """(T, S) booleans: query i sees key j when j <= i + (S - T), so the last query sees every
    key (with a KV cache of S - T earlier keys, T == 1 sees all S)."""
    return xp.arange(S)[None, :] <= xp.arange(T)[:, None] + (S - T)


def causal_softmax(scores, scale):
    """softmax(scale * scores) over the visible keys of each query, 0 on the hidden ones.
    scores is (..., T, S); a query that sees no key (possible only when T > S) gets zeros."""
    xp = get_array_module(scores)
    visible = causal_mask(xp, *scores.shape[-2:])
    z = xp.where(visible, scores * scores.dtype.type(scale), -xp.inf).astype(scores.dtype)
    e = xp.exp(z - _row_max(z))
    total = e.sum(axis=-1, keepdims=True)
    return e / xp.where(total > 0, total, 1)


def cross_entropy(logits, target, ignore_index=-100):
    """Per-row loss logsumexp(l_i) - l_i[t_i] and its gradient softmax(l_i) - onehot(t_i), for
    logits (N, C) and integer targets (N,). Rows whose target is ignore_index get loss 0, grad 0."""
    xp = get_array_module(logits)
    N, C = _check_cross_entropy(logits, target, ignore_index)
    kept = target != ignore_index
    safe = xp.where(kept, target, 0).astype(np.int64)
    log_p = log_softmax(logits)
    rows = xp.arange(N)
    loss = xp.where(kept, -log_p[rows, safe], 0).astype(logits.dtype)
    grad = xp.exp(log_p)
    grad[rows, safe] -= 1
    return loss, grad * kept[:, None].astype(logits.dtype)


def _check_cross_entropy(logits, target, ignore_index):
    """(N, C) after checking shapes and that every kept target is a class index."""
    if logits.ndim != 2 or target.shape != logits.shape[:1]:
        raise ValueError(f"cross_entropy expects logits (N, C) and target (N,), got "
                         f"{tuple(logits.shape)} and {tuple(target.shape)}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy target must hold integer class indices, got "
                        f"{target.dtype}")
    N, C = logits.shape
    check_class_indices(target, C, ignore_index, "cross_entropy")
    return N, C


def check_class_indices(target, classes, ignore_index, name):
    """That every target other than ``ignore_index`` is in [0, classes): else an IndexError
    naming the first one that is not (on a GPU the verdict waits on the device, see
    ``device_checks``)."""
    if not target.size:
        return
    bad = (((target < 0) | (target >= classes)) & (target != ignore_index)).reshape(-1)
    device_checks.check(
        bad.any(),
        lambda value: IndexError(f"{name}: target {value} is out of bounds for {classes} "
                                 f"classes (ignore_index={ignore_index})"),
        target.reshape(-1)[bad.argmax()], op=name)


def _softplus(xp, z):
    """log(1 + exp(z)) without overflow."""
    return xp.logaddexp(z.dtype.type(0), z)


def _sigmoid(xp, x):
    """1 / (1 + exp(-x)) as 0.5 (1 + tanh(x / 2)): never overflows."""
    return 0.5 * (1 + xp.tanh(0.5 * x))


def bce_with_logits(x, y, pos_weight=None):
    """Elementwise -(pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), using
    -log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x). pos_weight (C,)
    broadcasts against the last axis; None means 1."""
    xp = get_array_module(x)
    positive = y if pos_weight is None else pos_weight * y
    return positive * _softplus(xp, -x) + (1 - y) * _softplus(xp, x)


def bce_with_logits_backward(x, y, grad, pos_weight=None):
    """grad_x = grad * (sigmoid(x) (pw y + 1 - y) - pw y)."""
    xp = get_array_module(x)
    positive = y if pos_weight is None else pos_weight * y
    return grad * (_sigmoid(xp, x) * (positive + 1 - y) - positive)


def layer_norm(x, weight, bias, eps):
    """Normalise each row of x (..., D) to mean 0 and variance 1, then scale and shift:
    y = (x - mean) * rstd * weight + bias with rstd = 1 / sqrt(var + eps) (biased var).
    Returns (y, mean, rstd); mean and rstd have shape x.shape[:-1]."""
    xp = get_array_module(x)
    mean = x.mean(axis=-1)
    centred = x - mean[..., None]
    rstd = 1 / xp.sqrt((centred * centred).mean(axis=-1) + x.dtype.type(eps))
    y = centred * rstd[..., None]
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y, mean, rstd


def layer_norm_backward(grad_y, x, mean, rstd, weight):
    """With xhat = (x - mean) rstd and g = grad_y * weight:
    grad_x = rstd (g - mean(g) - xhat mean(g xhat)) per row, grad_weight = sum of grad_y xhat
    and grad_bias = sum of grad_y over all rows (grad_weight None when weight is None)."""
    xhat = (x - mean[..., None]) * rstd[..., None]
    g = grad_y if weight is None else grad_y * weight
    grad_x = rstd[..., None] * (g - g.mean(axis=-1, keepdims=True)
                                - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    D = x.shape[-1]
    grad_weight = None if weight is None else (grad_y * xhat).reshape(-1, D).sum(axis=0)
    return grad_x, grad_weight, grad_y.reshape(-1, D).sum(axis=0)


def _channel_axes(x):
    """The axes batch norm reduces over: all but the channel axis 1 of (N, C, ...)."""
    if x.ndim < 2:
        raise ValueError(f"batch norm expects (N, C, ...) input, got shape {tuple(x.shape)}")
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v, x):
    """A (C,) vector shaped (C, 1, ...) so it broadcasts over x (N, C, ...)."""
    return v.reshape((-1,) + (1,) * (x.ndim - 2))


def batch_norm(x, weight, bias, eps):
    """Training-mode batch norm of x (N, C, L): statistics per channel over N and L.
    Returns (y, mean (C,), var (C,)) with the BIASED variance."""
    xp = get_array_module(x)
    axes = _channel_axes(x)
    mean = x.mean(axis=axes)
    centred = x - _per_channel(mean, x)
    var = (centred * centred).mean(axis=axes)
    y = centred * _per_channel(1 / xp.sqrt(var + x.dtype.type(eps)), x)
    return _scale_shift(y, weight, bias), mean, var


def _scale_shift(y, weight, bias):
    if weight is not None:
        y = y * _per_channel(weight, y)
    if bias is not None:
        y = y + _per_channel(bias, y)
    return y


def batch_norm_eval(x, running_mean, running_var, weight, bias, eps):
    """Eval-mode batch norm: (x - running_mean) / sqrt(running_var + eps) * weight + bias."""
    xp = get_array_module(x)
    rstd = 1 / xp.sqrt(running_var.astype(x.dtype) + x.dtype.type(eps))
    y = (x - _per_channel(running_mean.astype(x.dtype), x)) * _per_channel(rstd, x)
    return _scale_shift(y, weight, bias)


def batch_norm_backward(grad_y, x, mean, var, weight, eps):
    """Training-mode backward: the layer-norm formula per channel over the N * L values,
    grad_x = rstd (g - mean(g) - xhat mean(g xhat)), g = grad_y * weight."""
    xp = get_array_module(x)
    axes = _channel_axes(x)
    rstd = _per_channel(1 / xp.sqrt(var + x.dtype.type(eps)), x)
    xhat = (x - _per_channel(mean, x)) * rstd
    g = grad_y if weight is None else grad_y * _per_channel(weight, x)
    grad_x = rstd * (g - g.mean(axis=axes, keepdims=True)
                     - xhat * (g * xhat).mean(axis=axes, keepdims=True))
    grad_weight = None if weight is None else (grad_y * xhat).sum(axis=axes)
    return grad_x, grad_weight, grad_y.sum(axis=axes)


def _erf(x):
    """The error function elementwise. NumPy has none, so the CPU spec maps math.erf (exact,
    slow; the fused twin is the fast path); CuPy has its own."""
    if get_array_module(x) is np:
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    from cupyx.scipy.special import erf
    return erf(x)


def gelu(x, approximate="none"):
    """GELU: x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), or with approximate="tanh"
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate == "tanh":
        xp = get_array_module(x)
        return 0.5 * x * (1 + xp.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
    _check_approximate(approximate)
    return 0.5 * x * (1 + _erf(x * INV_SQRT_2))


def gelu_backward(x, grad_y, approximate="none"):
    """d/dx x Phi(x) = Phi(x) + x phi(x); for the tanh form, with u = sqrt(2/pi)(x + 0.044715x^3)
    and t = tanh(u): 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)."""
    xp = get_array_module(x)
    if approximate == "tanh":
        t = xp.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x**3))
        slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 0.134145 * x * x)
    else:
        _check_approximate(approximate)
        slope = 0.5 * (1 + _erf(x * INV_SQRT_2)) + x * INV_SQRT_2PI * xp.exp(-0.5 * x * x)
    return grad_y * slope


def _check_approximate(approximate):
    if approximate != "none":
        raise ValueError(f"gelu approximate must be 'none' or 'tanh', got {approximate!r}")


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x."""
    return get_array_module(x).where(x > 0, x, x * x.dtype.type(negative_slope))


def leaky_relu_backward(x, grad_y, negative_slope=0.01):
    """grad_y where x > 0, else negative_slope * grad_y (slope at 0 taken as negative_slope)."""
    xp = get_array_module(x)
    return xp.where(x > 0, grad_y, grad_y * grad_y.dtype.type(negative_slope))


def relu_backward(y, grad_y):
    """0 where y <= 0, else grad_y, for y = relu(x) (or x itself): PyTorch's threshold_backward.
    Not leaky_relu_backward with slope 0: a NaN passes its gradient, and an infinite gradient
    where the unit is off gives 0, not inf * 0 = nan."""
    xp = get_array_module(y)
    return xp.where(y <= 0, xp.zeros((), grad_y.dtype), grad_y)


def _activation(z, activation, negative_slope):
    if activation == "identity":
        return z
    if activation == "relu":
        return get_array_module(z).where(z <= 0, z.dtype.type(0), z)         # nan stays nan
    if activation == "leaky_relu":
        return leaky_relu(z, negative_slope)
    if activation in ("gelu", "gelu_tanh"):
        return gelu(z, "tanh" if activation == "gelu_tanh" else "none")
    raise ValueError(f"unknown activation {activation!r}: expected one of {ACTIVATIONS}")


def _activation_backward(z, grad_y, activation, negative_slope):
    if activation == "identity":
        return grad_y
    if activation == "relu":
        return relu_backward(z, grad_y)
    if activation == "leaky_relu":
        return leaky_relu_backward(z, grad_y, negative_slope)
    if activation in ("gelu", "gelu_tanh"):
        return gelu_backward(z, grad_y, "tanh" if activation == "gelu_tanh" else "none")
    raise ValueError(f"unknown activation {activation!r}: expected one of {ACTIVATIONS}")


def bias_act(x, bias, activation, negative_slope=0.01):
    """activation(x + bias) for x (..., C) and bias (C,)."""
    return _activation(x + bias, activation, negative_slope)


def bias_act_backward(x, bias, grad_y, activation, negative_slope=0.01):
    """(grad_x, grad_bias): the activation's backward at z = x + bias, and grad_x summed over
    every leading axis for the bias."""
    grad_x = _activation_backward(x + bias, grad_y, activation, negative_slope)
    return grad_x, grad_x.reshape(-1, x.shape[-1]).sum(axis=0)


def conv_output_size(size, kernel, stride, padding, dilation):
    """OH = (H + 2 ph - dh (kh - 1) - 1) // sh + 1, and the same for widths."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _conv_geometry(input_shape, kernel_size, stride, padding, dilation):
    """(OH, OW) after checking that the window fits the padded input."""
    N, C, H, W = input_shape
    OH, OW = (conv_output_size(n, k, s, p, d) for n, k, s, p, d in
              zip((H, W), kernel_size, stride, padding, dilation))
    if OH < 1 or OW < 1:
        raise ValueError(f"kernel {tuple(kernel_size)} with dilation {tuple(dilation)} does not "
                         f"fit input {tuple(input_shape)} padded by {tuple(padding)}")
    return OH, OW


def _check_cols(cols, input_shape, kernel_size, stride, padding, dilation):
    """(OH, OW) after checking that cols has the shape im2col gives for ``input_shape``."""
    N, C, H, W = input_shape
    kh, kw = kernel_size
    OH, OW = _conv_geometry(input_shape, kernel_size, stride, padding, dilation)
    if tuple(cols.shape) != (N, C * kh * kw, OH * OW):
        raise ValueError(f"col2im expects cols of shape {(N, C * kh * kw, OH * OW)} for input "
                         f"{tuple(input_shape)}, got {tuple(cols.shape)}")
    return OH, OW


def im2col(x, kernel_size, stride, padding, dilation):
    """cols (N, C*kh*kw, OH*OW): column (oh, ow) holds the window of x (N, C, H, W, zero
    padded) that output pixel sees; row (c*kh + i)*kw + j is channel c at kernel offset (i, j).
    Built with one strided slice per kernel offset, as Chainer does (im2col_nd)."""
    _conv_geometry(x.shape, kernel_size, stride, padding, dilation)
    return im2col_nd(x, kernel_size, stride, padding, dilation)


def _output_sizes(spatial, kernel_size, stride, padding, dilation):
    return tuple(conv_output_size(*args) for args in zip(spatial, kernel_size, stride, padding,
                                                         dilation))


def _offset_slices(offset, size, stride, dilation):
    """The strided slice of the padded input that kernel offset ``offset`` reads, per dim."""
    return tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                 for i, o, s, d in zip(offset, size, stride, dilation))


def im2col_nd(x, kernel_size, stride, padding, dilation):
    """x (N, C, *spatial) -> cols (N, C*prod(kernel_size), prod(output size))."""
    xp = get_array_module(x)
    N, C = x.shape[:2]
    size = _output_sizes(x.shape[2:], kernel_size, stride, padding, dilation)
    if any(padding):
        x = xp.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    cols = xp.empty((N, C, math.prod(kernel_size)) + size, dtype=x.dtype)
    for j, offset in enumerate(itertools.product(*(range(k) for k in kernel_size))):
        cols[:, :, j] = x[(slice(None), slice(None)) +
                          _offset_slices(offset, size, stride, dilation)]
    return cols.reshape(N, C * math.prod(kernel_size), math.prod(size))


def col2im_nd(cols, input_shape, kernel_size, stride, padding, dilation):
    """The adjoint of im2col_nd: cols (N, C*K, L) summed back onto an ``input_shape`` array."""
    xp = get_array_module(cols)
    N, C = input_shape[:2]
    spatial = input_shape[2:]
    size = _output_sizes(spatial, kernel_size, stride, padding, dilation)
    canvas = xp.zeros((N, C) + tuple(n + 2 * p for n, p in zip(spatial, padding)),
                      dtype=cols.dtype)
    cols = cols.reshape((N, C, math.prod(kernel_size)) + size)
    for j, offset in enumerate(itertools.product(*(range(k) for k in kernel_size))):
        canvas[(slice(None), slice(None)) + _offset_slices(offset, size, stride, dilation)] += \
            cols[:, :, j]
    inside = tuple(slice(p, p + n) for n, p in zip(spatial, padding))
    return xp.ascontiguousarray(canvas[(slice(None), slice(None)) + inside])


def im2col_strided(x, kernel_size, stride, padding, dilation):
    """im2col as one strided view of the padded input, shape (N, C, kh, kw, OH, OW), copied
    once by the final reshape: the other strategy, for the benchmark to compare."""
    xp = get_array_module(x)
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    OH, OW = _conv_geometry(x.shape, kernel_size, stride, padding, dilation)
    padded = xp.ascontiguousarray(xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))))
    sN, sC, sH, sW = padded.strides
    windows = xp.lib.stride_tricks.as_strided(
        padded, (N, C, kh, kw, OH, OW), (sN, sC, sH * dh, sW * dw, sH * sh, sW * sw))
    return windows.reshape(N, C * kh * kw, OH * OW)


def col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    """The adjoint of im2col: each column's window is added back where it came from, so
    overlapping windows accumulate and values that fell on the zero padding are dropped."""
    _check_cols(cols, input_shape, kernel_size, stride, padding, dilation)
    return col2im_nd(cols, tuple(input_shape), kernel_size, stride, padding, dilation)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, step, lr, beta1,
              beta2, eps, weight_decay, decoupled, amsgrad, maximize=False):
    """One Adam (decoupled=False) or AdamW (decoupled=True) update, in place, as PyTorch's
    single-tensor loop: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    param -= lr / (1 - b1^step) * m / (sqrt(vhat) / sqrt(1 - b2^step) + eps), where vhat is
    v, or the running max of v (stored in max_exp_avg_sq) with amsgrad."""
    xp = get_array_module(param)
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * param
    exp_avg += (g - exp_avg) * (1 - beta1)              # PyTorch's lerp form
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    vhat = max_exp_avg_sq if amsgrad else exp_avg_sq
    denom = xp.sqrt(vhat) / math.sqrt(1 - beta2**step) + eps
    param -= (lr / (1 - beta1**step)) * exp_avg / denom
