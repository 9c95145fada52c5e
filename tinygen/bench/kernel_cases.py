"""The calls that ``tinygen bench kernels`` times: for every kernel of ``tinygen.kernels``, its
arguments at a given size, the bytes it must move, and PyTorch's equivalent call.

A case builds host (NumPy) arguments; the runner copies them to the device for each contender,
so in-place kernels (adam_step) never share state. ``traffic`` counts the unavoidable memory
traffic in units of the main operand (reads + writes: softmax reads x and writes y, so 2).
"""

from dataclasses import dataclass

import numpy as np

from tinygen.kernels import reference

ROW = 1024                                 # row length of the row kernels
EPS = 1e-5


@dataclass(frozen=True)
class Case:
    """``make(rng, n, dtype) -> (args, kwargs)`` on the host; ``torch(torch, *args, **kwargs)``
    returns a no-argument callable running PyTorch's equivalent on the same values as tensors."""
    name: str
    make: object
    traffic: int
    torch: object = None


def rows_shape(n):
    """(n / ROW, ROW): softmax, cross-entropy and layer-norm inputs."""
    return (max(n // ROW, 1), ROW)


def channels_shape(n):
    """(16, 64, L) for batch norm: 16 samples, 64 channels."""
    return (16, 64, max(n // 1024, 1))


def scores_shape(n):
    """(heads, T, T) attention scores: T = 64 up to 256K elements, else 256."""
    T = 64 if n <= 2**18 else 256
    return (max(n // (T * T), 1), T, T)


def image_shape(n):
    """(N, C, H, W) with N * C * H * W = n (for n = 4K, 256K, 4M: 32x32 or 64x64 images)."""
    H = 32 if n < 2**22 else 64
    C = 4 if n < 2**16 else (16 if n < 2**22 else 64)
    return (max(n // (C * H * H), 1), C, H, H)


CONV = ((3, 3), (1, 1), (1, 1), (1, 1))    # kernel, stride, padding, dilation: a 3x3 "same"
ADAM = dict(step=10, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
            decoupled=False, amsgrad=False)


def _normal(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _rows(rng, n, dtype):
    return _normal(rng, rows_shape(n), dtype, 3.0)


def _torch_cross_entropy(t, logits, target, ignore_index):
    rows = t.arange(len(target))

    def run():                             # what a PyTorch user writes for loss and grad
        log_p = t.log_softmax(logits, -1)
        loss = -log_p[rows, target]
        grad = log_p.exp()
        grad[rows, target] -= 1
        return loss, grad
    return run


def _torch_causal_softmax(t, scores, scale):
    T, S = scores.shape[-2:]
    hidden = t.ones(T, S, dtype=t.bool, device=scores.device).triu(S - T + 1)
    return lambda: t.softmax((scores * scale).masked_fill(hidden, float("-inf")), -1)


def _torch_bias_act_backward(t, x, bias, grad_y, activation):
    def run():
        grad_x = t.ops.aten.gelu_backward(grad_y, x + bias, approximate="tanh")
        return grad_x, grad_x.sum(0)
    return run


def _torch_adam(t, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, **settings):
    """The kernel behind torch.optim.Adam(fused=True) (torch.optim itself imports slowly)."""
    step = t.tensor(float(settings["step"]), device=param.device)
    return lambda: t._fused_adam_(
        [param], [grad], [exp_avg], [exp_avg_sq], [], [step], lr=settings["lr"],
        beta1=settings["beta1"], beta2=settings["beta2"], weight_decay=settings["weight_decay"],
        eps=settings["eps"], amsgrad=False, maximize=False)


def _make_softmax_backward(forward):
    def make(rng, n, dtype):
        return (forward(_rows(rng, n, dtype)), _rows(rng, n, dtype)), {}
    return make


def _make_cross_entropy(rng, n, dtype):
    logits = _rows(rng, n, dtype)
    return (logits, rng.integers(0, ROW, len(logits)), -100), {}


def _make_layer_norm_backward(rng, n, dtype):
    x, weight = _rows(rng, n, dtype), _normal(rng, ROW, dtype)
    _, mean, rstd = reference.layer_norm(x, weight, None, EPS)
    return (_rows(rng, n, dtype), x, mean, rstd, weight), {}


def _make_batch_norm_backward(rng, n, dtype):
    x, weight = _normal(rng, channels_shape(n), dtype), _normal(rng, 64, dtype)
    _, mean, var = reference.batch_norm(x, weight, None, EPS)
    return (_normal(rng, x.shape, dtype), x, mean, var, weight, EPS), {}


def _make_col2im(rng, n, dtype):
    N, C, H, W = shape = image_shape(n)
    return (_normal(rng, (N, C * 9, H * W), dtype), shape, *CONV), {}


def _make_adam(rng, n, dtype):
    state = (_normal(rng, n, dtype), _normal(rng, n, dtype), np.zeros(n, dtype),
             np.zeros(n, dtype), None)
    return state, dict(ADAM)


def _torch_layer_norm_backward(t, grad_y, x, mean, rstd, weight):
    D, bias = [x.shape[-1]], t.zeros_like(weight)
    return lambda: t.ops.aten.native_layer_norm_backward(
        grad_y, x, D, mean[:, None], rstd[:, None], weight, bias, [True, True, True])


def _torch_batch_norm_backward(t, grad_y, x, mean, var, weight, eps):
    invstd = 1 / (var + eps).sqrt()
    return lambda: t.ops.aten.native_batch_norm_backward(
        grad_y, x, weight, None, None, mean, invstd, True, eps, [True, True, True])


CASES = [
    Case("softmax", lambda r, n, d: ((_rows(r, n, d),), {}), 2,
         lambda t, x: lambda: t.softmax(x, -1)),
    Case("softmax_backward", _make_softmax_backward(reference.softmax), 3,
         lambda t, y, g: lambda: t._softmax_backward_data(g, y, -1, y.dtype)),
    Case("log_softmax", lambda r, n, d: ((_rows(r, n, d),), {}), 2,
         lambda t, x: lambda: t.log_softmax(x, -1)),
    Case("log_softmax_backward", _make_softmax_backward(reference.log_softmax), 3,
         lambda t, y, g: lambda: t._log_softmax_backward_data(g, y, -1, y.dtype)),
    Case("causal_softmax", lambda r, n, d: ((_normal(r, scores_shape(n), d), 0.125), {}), 2,
         _torch_causal_softmax),
    Case("cross_entropy", _make_cross_entropy, 2, _torch_cross_entropy),
    Case("bce_with_logits",
         lambda r, n, d: ((_rows(r, n, d), r.uniform(0, 1, rows_shape(n)).astype(d)), {}), 3,
         lambda t, x, y: lambda: t.nn.functional.binary_cross_entropy_with_logits(
             x, y, reduction="none")),
    Case("bce_with_logits_backward",
         lambda r, n, d: ((_rows(r, n, d), r.uniform(0, 1, rows_shape(n)).astype(d),
                           _rows(r, n, d)), {}), 4,
         lambda t, x, y, g: lambda: g * (t.sigmoid(x) - y)),
    Case("layer_norm",
         lambda r, n, d: ((_rows(r, n, d), _normal(r, ROW, d), _normal(r, ROW, d), EPS), {}), 2,
         lambda t, x, w, b, eps: lambda: t.native_layer_norm(x, [x.shape[-1]], w, b, eps)),
    Case("layer_norm_backward", _make_layer_norm_backward, 3, _torch_layer_norm_backward),
    Case("batch_norm",
         lambda r, n, d: ((_normal(r, channels_shape(n), d), _normal(r, 64, d),
                           _normal(r, 64, d), EPS), {}), 2,
         lambda t, x, w, b, eps: lambda: t.native_batch_norm(x, w, b, None, None, True, 0.1,
                                                              eps)),
    Case("batch_norm_eval",
         lambda r, n, d: ((_normal(r, channels_shape(n), d), _normal(r, 64, d),
                           r.uniform(0.5, 2, 64).astype(d), _normal(r, 64, d),
                           _normal(r, 64, d), EPS), {}), 2,
         lambda t, x, rm, rv, w, b, eps: lambda: t.native_batch_norm(x, w, b, rm, rv, False,
                                                                      0.1, eps)),
    Case("batch_norm_backward", _make_batch_norm_backward, 3, _torch_batch_norm_backward),
    Case("gelu", lambda r, n, d: ((_rows(r, n, d), "none"), {}), 2,
         lambda t, x, approximate: lambda: t.nn.functional.gelu(x)),
    Case("gelu_backward", lambda r, n, d: ((_rows(r, n, d), _rows(r, n, d), "none"), {}), 3,
         lambda t, x, g, approximate: lambda: t.ops.aten.gelu_backward(g, x)),
    Case("leaky_relu", lambda r, n, d: ((_rows(r, n, d), 0.01), {}), 2,
         lambda t, x, slope: lambda: t.nn.functional.leaky_relu(x, slope)),
    Case("leaky_relu_backward", lambda r, n, d: ((_rows(r, n, d), _rows(r, n, d), 0.01), {}), 3,
         lambda t, x, g, slope: lambda: t.ops.aten.leaky_relu_backward(g, x, slope, False)),
    Case("relu_backward",
         lambda r, n, d: ((np.maximum(_rows(r, n, d), 0), _rows(r, n, d)), {}), 3,
         lambda t, y, g: lambda: t.ops.aten.threshold_backward(g, y, 0)),
    Case("bias_act", lambda r, n, d: ((_rows(r, n, d), _normal(r, ROW, d), "gelu_tanh"), {}), 2,
         lambda t, x, b, act: lambda: t.nn.functional.gelu(x + b, approximate="tanh")),
    Case("bias_act_backward",
         lambda r, n, d: ((_rows(r, n, d), _normal(r, ROW, d), _rows(r, n, d), "gelu_tanh"),
                          {}), 3,
         _torch_bias_act_backward),
    Case("im2col", lambda r, n, d: ((_normal(r, image_shape(n), d), *CONV), {}), 10,
         lambda t, x, k, s, p, dil: lambda: t.nn.functional.unfold(x, k, dil, p, s)),
    Case("col2im", _make_col2im, 10,
         lambda t, cols, shape, k, s, p, dil: lambda: t.nn.functional.fold(
             cols, shape[-2:], k, dil, p, s)),
    Case("adam_step", _make_adam, 7, _torch_adam),
]
