"""Regression, binary and divergence losses: mse, l1, smooth l1 and huber, binary cross entropy
(on probabilities and on logits), the Gaussian and Poisson negative log likelihoods, KL
divergence, and the Gaussian KL term of a VAE. Cross entropy and NLL live in
``cross_entropy.py``, the margin and embedding losses in ``margin_loss.py``; all share the
reduction helpers at the top of this one.

Every loss takes ``reduction='mean'|'sum'|'none'`` (and PyTorch's deprecated ``size_average`` /
``reduce`` pair where PyTorch does). Unlike PyTorch, the regression losses and the binary cross
entropies refuse
a target whose shape differs from the input's: PyTorch broadcasts it with a warning, which is
almost always a silent bug ((N, 1) against (N,) gives an (N, N) loss).
"""

import math
import warnings

import numpy as np

from tinygen import device_checks, kernels
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.backend import get_array_module
from tinygen.errors import ArgumentError
from tinygen.ops.compare import clamp, where
from tinygen.ops.distance import ClampMinForward
from tinygen.ops.elementwise import exp, log, log1p, relu, sigmoid
from tinygen.tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")
_LOG_FLOOR = -100.0                      # PyTorch clamps BCE's logs here: log(0) gives -100
_BCE_EPS = 1e-12                         # PyTorch's floor for x (1 - x) in BCE's backward


def legacy_reduction(size_average, reduce, reduction, allowed=REDUCTIONS):
    """The reduction to use, from ``reduction`` or PyTorch's deprecated pair (size_average,
    reduce) when either is given; an unknown reduction is a ValueError."""
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      "reduction='mean' (or 'sum', 'none') instead.", UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    if reduction not in allowed:
        raise ValueError(f"{reduction!r} is not a valid value for reduction: use one of "
                         f"{', '.join(repr(r) for r in allowed)}")
    return reduction


def reduce_loss(loss, reduction):
    """Apply an already checked reduction ('none', 'mean' or 'sum') to elementwise losses."""
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _check_same_shape(input, target, name):
    if target.shape != input.shape:
        raise ArgumentError(f"{name}: target shape {tuple(target.shape)} differs from input "
                            f"shape {tuple(input.shape)}; reshape the target to the input's "
                            f"shape (tinygen never broadcasts a loss target)")


def _float_target(input, target, name):
    """The target as a tensor of the input's floating dtype, after checking its shape."""
    target = _checked_target(input, target, name)
    return target if target.dtype == input.dtype else target.to(input.dtype)


def _checked_target(input, target, name):
    """The target, checked to be a tensor of the input's shape. The losses that take it as it
    is promote the two dtypes in ``input - target``, as PyTorch's (l1, mse, smooth_l1)."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}: target must be a Tensor, got {type(target).__name__}")
    _check_same_shape(input, target, name)
    return target


def _check_weight(weight, input, name):
    """A per-element rescaling weight must broadcast to the input's shape without growing it."""
    shape = np.broadcast_shapes(weight.shape, input.shape)
    if shape != input.shape:
        raise ValueError(f"{name}: weight of shape {tuple(weight.shape)} does not broadcast to "
                         f"the input shape {tuple(input.shape)}")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (x - y)^2; with ``weight`` the mean is sum(w e) / sum(w) (PyTorch)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    error = input - _checked_target(input, target, "mse_loss")
    return _weighted(error * error, weight, input, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |x - y|; with ``weight`` the mean is sum(w e) / sum(w) (PyTorch)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    error = (input - _checked_target(input, target, "l1_loss")).abs()
    return _weighted(error, weight, input, reduction, "l1_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, for d = x - y (Girshick 2015);
    beta = 0 is the l1 loss."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got "
                           f"{beta}.")
    error = input - _checked_target(input, target, "smooth_l1_loss")
    loss = _huber(error, beta) / beta if beta > 0 else error.abs()
    return reduce_loss(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = x - y (Huber 1964);
    delta * smooth_l1_loss(beta=delta). With ``weight`` the mean is mean(w loss) (PyTorch)."""
    reduction = legacy_reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got "
                           f"{delta}.")
    loss = _huber(input - _float_target(input, target, "huber_loss"), delta)
    if weight is not None:
        if weight.shape != input.shape:
            raise ValueError(f"huber_loss: weight shape {tuple(weight.shape)} must equal the "
                             f"input shape {tuple(input.shape)}")
        loss = loss * weight
    return reduce_loss(loss, reduction)


def _huber(error, delta):
    """0.5 e^2 where |e| < delta, else delta (|e| - 0.5 delta): quadratic, then linear."""
    size = error.abs()
    return where(size < delta, 0.5 * error * error, delta * (size - 0.5 * delta))


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log v + (x - y)^2 / v) (+ 0.5 log(2 pi) when ``full``), the negative log likelihood
    of y under N(x, v) (Nix & Weigend 1994). v is clamped to at least ``eps`` for the value only:
    its gradient flows as if unclamped, as in PyTorch. ``var`` may be a number, have the input's
    shape, lack its last dimension, or have size 1 in one dimension (one variance shared).
    ``target`` broadcasts against ``input``, as PyTorch's."""
    reduction = legacy_reduction(None, None, reduction)
    if not isinstance(target, Tensor):
        raise TypeError(f"gaussian_nll_loss: target must be a Tensor, got "
                        f"{type(target).__name__}")
    if not isinstance(var, Tensor):
        var = Tensor(get_array_module(input.array).full(input.shape, var, dtype=input.dtype))
    if var.shape == input.shape[:-1] and var.shape != input.shape:
        var = var.unsqueeze(-1)
    elif not _one_shared_dim(var.shape, input.shape):
        raise ValueError(f"gaussian_nll_loss: var is of incorrect size: var shape "
                         f"{tuple(var.shape)} for input shape {tuple(input.shape)}")
    device_checks.check((var.array < 0).any(), lambda: ValueError(
        "gaussian_nll_loss: var has negative entry/entries"), op="gaussian_nll_loss")
    var = ClampMinForward.apply(var, eps)
    error = input - target
    loss = 0.5 * (log(var) + error * error / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


def _one_shared_dim(var_shape, input_shape):
    """Whether var has the input's shape, or differs from it in one dimension where var has
    size 1 (PyTorch's test)."""
    if len(var_shape) != len(input_shape):
        return False
    differing = [v for v, n in zip(var_shape, input_shape) if v != n]
    return not differing or differing == [1]


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log likelihood of y under Poisson(rate), without the constant log(y!):
    exp(x) - y x when ``input`` is the log-rate (``log_input``), else x - y log(x + eps).
    ``full`` adds Stirling's approximation of log(y!), y log y - y + 0.5 log(2 pi y), for y > 1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _float_target(input, target, "poisson_nll_loss")
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        counted = target > 1
        y = where(counted, target, 1)            # keeps log away from 0 where masked out
        stirling = y * log(y) - y + 0.5 * log(2 * math.pi * y)
        loss = loss + where(counted, stirling, 0)
    return reduce_loss(loss, reduction)


def _weighted(loss, weight, input, reduction, name):
    if weight is None:
        return reduce_loss(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError(f"{name}: weight shape {tuple(weight.shape)} must equal the input "
                         f"shape {tuple(input.shape)}")
    loss = loss * weight
    return loss.sum() / weight.sum() if reduction == "mean" else reduce_loss(loss, reduction)


class BinaryCrossEntropy(ArrayFunction):
    """loss = -(y log x + (1 - y) log(1 - x)), each log clamped at -100 as in PyTorch, so x = 0
    or 1 gives a finite loss. dloss/dx = (x - y) / max(x (1 - x), 1e-12), PyTorch's backward,
    finite at 0 and 1 too (the derivative of the clamped formula would be 0 * inf there);
    dloss/dy = log(1 - x) - log(x). Both are tensor ops, so they differentiate again."""
    @staticmethod
    def forward(ctx, x, y):
        xp = get_array_module(x)
        with np.errstate(divide="ignore"):                # log(0) = -inf, then clamped
            log_x = xp.maximum(xp.log(x), _LOG_FLOOR)
            log_1mx = xp.maximum(xp.log1p(-x), _LOG_FLOOR)
        ctx.save_for_backward(x, y)
        return -(y * log_x + (1 - y) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = grad * (x - y) / clamp(x * (1 - x), min=_BCE_EPS)
        if ctx.needs_input_grad[1]:
            grad_y = grad * (clamp(log1p(-x), min=_LOG_FLOOR) - clamp(log(x), min=_LOG_FLOOR))
        return grad_x, grad_y


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """BCE on probabilities: -w (y log x + (1 - y) log(1 - x)), logs clamped at -100."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _float_target(input, target, "binary_cross_entropy")
    x = input.array
    device_checks.check(   # NaN fails too, as in PyTorch
        ~((x >= 0) & (x <= 1)).all(),
        lambda: RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                             "and 1; pass logits to binary_cross_entropy_with_logits instead"),
        op="binary_cross_entropy")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        _check_weight(weight, input, "binary_cross_entropy")
        loss = loss * weight
    return reduce_loss(loss, reduction)


class BinaryCrossEntropyWithLogits(ArrayFunction):
    """loss = -(p y log s(x) + (1 - y) log(1 - s(x))), s = sigmoid, p = pos_weight, in one stable
    pass (kernels.bce_with_logits: -log s(x) = softplus(-x), never inf at |x| = 1e4).
    dloss/dx = s(x) (p y + 1 - y) - p y;  dloss/dy = (p - 1) softplus(-x) - x;
    dloss/dp = y softplus(-x)."""
    @staticmethod
    def forward(ctx, x, y, pos_weight):
        ctx.save_for_backward(x, y, pos_weight)
        return _on_kernel(kernels.bce_with_logits, x, y, pos_weight)

    @staticmethod
    def backward(ctx, grad):
        x, y, pos_weight = ctx.saved_tensors
        positive = y if pos_weight is None else pos_weight * y
        grad_x = grad_y = grad_pos_weight = None
        if ctx.needs_input_grad[0]:
            if is_grad_enabled():        # create_graph: the same gradient in tensor ops
                grad_x = grad * (sigmoid(x) * (positive + 1 - y) - positive)
            else:
                pw = None if pos_weight is None else pos_weight.array
                grad_x = Tensor(_on_kernel(kernels.bce_with_logits_backward, x.array, y.array,
                                           pw, grad.array))
        if ctx.needs_input_grad[1]:
            weight_minus_one = 0 if pos_weight is None else pos_weight - 1
            grad_y = grad * (weight_minus_one * _softplus_neg(x) - x)
        if ctx.needs_input_grad[2]:
            grad_pos_weight = grad * y * _softplus_neg(x)
        return grad_x, grad_y, grad_pos_weight


def _on_kernel(kernel, x, y, pos_weight, *more):
    """Call a bce_with_logits kernel, which broadcasts pos_weight against the last axis only:
    any other pos_weight is expanded to x's shape and every array flattened."""
    if pos_weight is None or pos_weight.shape == x.shape[-1:]:
        return kernel(x, y, *more, pos_weight=pos_weight)
    xp = get_array_module(x)
    flat_pw = xp.broadcast_to(pos_weight, x.shape).reshape(-1)
    flat = [a.reshape(-1) for a in (x, y) + more]
    return kernel(*flat, pos_weight=flat_pw).reshape(x.shape)


def _softplus_neg(x):
    """softplus(-x) = -log sigmoid(x) = relu(-x) + log(1 + exp(-|x|)), in tensor ops."""
    return relu(-x) + log1p(exp(-x.abs()))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """BCE on logits, stable for any logit: -w (p y log s(x) + (1 - y) log(1 - s(x))).
    ``pos_weight`` (broadcast against the target, usually (C,)) weighs the positive term."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    name = "binary_cross_entropy_with_logits"
    target = _float_target(input, target, name)
    if pos_weight is not None:
        _check_weight(pos_weight, input, name + " (pos_weight)")
        pos_weight = pos_weight if pos_weight.dtype == input.dtype else pos_weight.to(
            input.dtype)
    loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        _check_weight(weight, input, name)
        loss = loss * weight
    return reduce_loss(loss, reduction)


def _xlogy(x):
    """x log x, with 0 log 0 = 0 (its limit); the log never sees 0, so no nan reaches backward."""
    zero = x == 0
    return where(zero, 0, x * log(where(zero, 1, x)))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || model) pointwise, with ``input`` holding the model's log-probabilities:
    target (log target - input), or exp(target) (target - input) when ``log_target``.

    'batchmean' (sum / batch size) is the true KL divergence; 'mean' divides by every element
    and warns, as in PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction, REDUCTIONS + ("batchmean",))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = _xlogy(target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return reduce_loss(loss, reduction)


def gaussian_kl(mu, logvar, reduction="sum"):
    """KL(N(mu, exp(logvar)) || N(0, I)) = -0.5 (1 + logvar - mu^2 - exp(logvar)) per latent
    dimension, the VAE's regulariser (Kingma & Welling 2014, appendix B).

    ``reduction``: 'sum' (the paper's, over batch and latents), 'batchmean' (sum / batch size:
    the per-example KL averaged over the batch), 'mean' (over every element) or 'none'."""
    if mu.shape != logvar.shape:
        raise ValueError(f"gaussian_kl: mu shape {tuple(mu.shape)} differs from logvar shape "
                         f"{tuple(logvar.shape)}")
    reduction = legacy_reduction(None, None, reduction, REDUCTIONS + ("batchmean",))
    kl = -0.5 * (1 + logvar - mu * mu - exp(logvar))
    if reduction == "batchmean":
        return kl.sum() / mu.shape[0] if mu.ndim else kl.sum()
    return reduce_loss(kl, reduction)
