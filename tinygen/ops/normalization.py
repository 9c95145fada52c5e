"""Normalisation layers as ops: layer_norm, batch_norm (training and eval), group_norm, and
the composites instance_norm (a group norm of one channel per group) and rms_norm.

All three compute xhat = (x - mean) / sqrt(var + eps) over some axes (biased variance), then
y = xhat * weight + bias. Forward and first backward run the fused kernels. When the backward
itself is recorded (``create_graph=True``), it is computed from the composite formula
(``_normalized_backward``) in tensor ops instead, so second derivatives are exact.
"""

import math

import numpy as np

from tinygen import dtypes, kernels
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import is_grad_enabled, no_grad
from tinygen.ops.shape import reshape
from tinygen.tensor import Tensor


def _normalized_backward(x, grad_y, weight, axes, eps):
    """(grad_x, xhat) for y = xhat * weight + b, xhat normalised over ``axes``, in tensor ops.

    With n elements per statistic and gxhat = grad_y * weight (the standard result):
        grad_x = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)).
    The statistics are recomputed from ``x`` so that they, too, are differentiated.
    """
    centred = x - x.mean(axes, keepdim=True)
    rstd = ((centred * centred).mean(axes, keepdim=True) + eps).rsqrt()
    xhat = centred * rstd
    gxhat = grad_y if weight is None else grad_y * weight
    grad_x = rstd * (gxhat - gxhat.mean(axes, keepdim=True)
                     - xhat * (gxhat * xhat).mean(axes, keepdim=True))
    return grad_x, xhat


def _array(t):
    return None if t is None else t.array


def _tensor(array):
    return None if array is None else Tensor(array)


class LayerNorm(ArrayFunction):
    """y = (x - mean) * rstd * weight + bias over the last axis of x (*, D); weight and bias
    (D,) or None."""
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        ctx.eps = eps
        y, mean, rstd = kernels.layer_norm(x, weight, bias, eps)
        ctx.save_for_backward(x, weight, mean, rstd)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, weight, mean, rstd = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        if is_grad_enabled():
            grad_x, xhat = _normalized_backward(x, grad_y, weight, -1, ctx.eps)
            grad_weight = _sum_rows(grad_y * xhat) if need_weight else None
            grad_bias = _sum_rows(grad_y) if need_bias else None
        else:
            grad_x, grad_weight, grad_bias = map(_tensor, kernels.layer_norm_backward(
                grad_y.array, x.array, mean.array, rstd.array, _array(weight)))
        return (grad_x if need_x else None, grad_weight if need_weight else None,
                grad_bias if need_bias else None, None)


def _sum_rows(t):
    """t (*, D) summed over its leading dims, to (D,)."""
    return t.sum(tuple(range(t.ndim - 1))) if t.ndim > 1 else t


class BatchNorm(ArrayFunction):
    """Training mode: y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over N and L
    of x (N, C, L). Also returns the batch mean and biased variance, for the running averages;
    those two outputs are statistics to record, not to differentiate."""
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        ctx.eps = eps
        y, mean, var = kernels.batch_norm(x, weight, bias, eps)
        ctx.save_for_backward(x, weight, mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx, grad_y, grad_mean, grad_var):
        x, weight, mean, var = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        if is_grad_enabled():
            channel_weight = None if weight is None else reshape(weight, (-1, 1))
            grad_x, xhat = _normalized_backward(x, grad_y, channel_weight, (0, 2), ctx.eps)
            grad_weight = (grad_y * xhat).sum((0, 2)) if need_weight else None
            grad_bias = grad_y.sum((0, 2)) if need_bias else None
        else:
            grad_x, grad_weight, grad_bias = map(_tensor, kernels.batch_norm_backward(
                grad_y.array, x.array, mean.array, var.array, _array(weight), ctx.eps))
        return (grad_x if need_x else None, grad_weight if need_weight else None,
                grad_bias if need_bias else None, None)


class BatchNormEval(ArrayFunction):
    """Eval mode: y = (x - running_mean) * rstd * weight + bias with fixed statistics, an affine
    map of x, so its backward is a few tensor ops (differentiable as they are)."""
    @staticmethod
    def forward(ctx, x, running_mean, running_var, weight, bias, eps):
        ctx.mean = running_mean.reshape(-1, 1).copy()      # copies: the buffers change later
        ctx.rstd = 1.0 / (running_var.reshape(-1, 1) + eps) ** 0.5
        ctx.save_for_backward(x, weight)
        return kernels.batch_norm_eval(x, running_mean, running_var, weight, bias, eps)

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved_tensors
        rstd = Tensor(ctx.rstd.astype(grad_y.dtype, copy=False))
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_y * (rstd if weight is None else rstd * reshape(weight, (-1, 1)))
        if ctx.needs_input_grad[3]:
            xhat = (x - Tensor(ctx.mean.astype(x.dtype, copy=False))) * rstd
            grad_weight = (grad_y * xhat).sum((0, 2))
        if ctx.needs_input_grad[4]:
            grad_bias = grad_y.sum((0, 2))
        return grad_x, None, None, grad_weight, grad_bias, None


def _check_affine(name, param, shape, op):
    if param is not None and tuple(param.shape) != tuple(shape):
        raise RuntimeError(f"{op}: expected {name} of shape {tuple(shape)}, got "
                           f"{tuple(param.shape)}")


def _trailing_shape(op, input, normalized_shape):
    """``normalized_shape`` as a tuple, checked to be the trailing dims of ``input``."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
        int(n) for n in normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        star = ", ".join(["*"] + [str(n) for n in shape])
        raise RuntimeError(f"{op}: given normalized_shape={list(shape)}, expected input "
                           f"with shape [{star}], but got input of size {list(input.shape)}")
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift."""
    shape = _trailing_shape("layer_norm", input, normalized_shape)
    k = len(shape)
    for name, param in (("weight", weight), ("bias", bias)):
        _check_affine(name, param, shape, "layer_norm")
    if k == 1:                                   # the usual case: no reshapes to record
        return LayerNorm.apply(input, weight, bias, float(eps))
    features = math.prod(shape)
    flat = [None if p is None else reshape(p, (features,)) for p in (weight, bias)]
    lead = tuple(input.shape[:input.ndim - k])
    y = LayerNorm.apply(reshape(input, lead + (features,)), flat[0], flat[1], float(eps))
    return reshape(y, input.shape)


def _channels_first(input, op):
    """input (N, C, *) as (N, C, L), the layout the batch-norm kernels take."""
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C, *) with at least 2 dims, got "
                         f"shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    return reshape(input, (n, c, math.prod(input.shape[2:])))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) of ``input`` (N, C, *) over every other dim.

    training=True uses the batch statistics and, when running_mean/running_var are given,
    updates them in place: r = (1 - momentum) r + momentum s, with the UNBIASED batch variance
    for running_var (as PyTorch). training=False uses running_mean/running_var.
    """
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if input.numel() == 0:               # an empty batch passes through, stats untouched
        channels = input.shape[1] if input.ndim > 1 else 0
        for name, param in (("running_mean", running_mean), ("running_var", running_var)):
            _check_affine(name, param, (channels,), f"batch_norm (input has {channels} channels)")
        return input.clone()
    x = _channels_first(input, "batch_norm")
    n, c, length = x.shape
    count = n * length
    if training and count == 1:                  # checked first, as torch does
        raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                         f"training, got input size {list(input.shape)}")
    for name, param in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
        _check_affine(name, param, (c,), f"batch_norm (input has {c} channels)")
    if training:
        y, mean, var = BatchNorm.apply(x, weight, bias, float(eps))
        if running_mean is not None or running_var is not None:
            with no_grad():
                _update_running(running_mean, mean, momentum)
                _update_running(running_var, var * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var are needed when "
                               "training=False (pass training=True to use batch statistics)")
        y = BatchNormEval.apply(x, running_mean, running_var, weight, bias, float(eps))
    return reshape(y, input.shape)


def _update_running(running, batch_value, momentum):
    """Move a running statistic towards the batch's; the batch value's tangent, under forward
    AD, is not carried into the buffer (as in torch)."""
    if running is not None:
        running.mul_(1.0 - momentum).add_(batch_value.detach().to(running.dtype) * momentum)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels of ``input`` (N, C, *) into ``num_groups`` groups and normalise each
    group of each sample, then apply the per-channel weight and bias. Runs as a layer norm of
    (N * G, C / G * L) rows."""
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input of shape (N, C, *) with at least 2 "
                           f"dimensions, got shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    if num_groups > 0 and n * c // num_groups * math.prod(input.shape[2:]) == 1:   # as torch
        raise ValueError(f"group_norm: expected more than 1 value per channel when training, "
                         f"got input size {list(input.shape)} with {num_groups} groups")
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"group_norm: expected the number of channels ({c}) to be divisible "
                           f"by num_groups ({num_groups})")
    for name, param in (("weight", weight), ("bias", bias)):
        _check_affine(name, param, (c,), "group_norm")
    rows = reshape(input, (n * num_groups, math.prod(input.shape[1:]) // num_groups))
    y = reshape(LayerNorm.apply(rows, None, None, float(eps)), input.shape)
    per_channel = (c,) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * reshape(weight, per_channel)
    if bias is not None:
        y = y + reshape(bias, per_channel)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample of ``input`` (N, C, *) over its own spatial dims.

    use_input_stats=True uses those per-instance statistics and, when running_mean/running_var
    are given, moves them towards the batch average of the per-instance mean and UNBIASED
    variance (as PyTorch); use_input_stats=False normalises with the running statistics.
    """
    x = _channels_first(input, "instance_norm")
    n, c, length = x.shape
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if length <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    y = group_norm(input, c, weight, bias, eps)
    if running_mean is not None or running_var is not None:
        for name, param in (("running_mean", running_mean), ("running_var", running_var)):
            _check_affine(name, param, (c,), f"instance_norm (input has {c} channels)")
        with no_grad():
            _update_running(running_mean, x.mean(2).mean(0), momentum)
            _update_running(running_var, x.var(2, correction=1).mean(0), momentum)
    return y


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """y = x / sqrt(mean(x^2) + eps) * weight over the last ``len(normalized_shape)`` dims
    (Zhang & Sennrich, 2019); eps=None is the machine epsilon of the input's dtype, as PyTorch.
    float16 is computed in float32 and rounded once, as PyTorch (x^2 overflows float16 at 256)."""
    shape = _trailing_shape("rms_norm", input, normalized_shape)
    _check_affine("weight", weight, shape, "rms_norm")
    if eps is None:
        eps = float(np.finfo(input.array.dtype).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    half = input.dtype == dtypes.float16
    x = input.float() if half else input
    y = x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt()
    y = y if weight is None else y * weight
    return y.to(dtypes.float16) if half else y
