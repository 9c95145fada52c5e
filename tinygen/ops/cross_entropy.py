"""Classification losses: cross_entropy (class indices or class probabilities, class weights,
ignore_index, label smoothing, N-d inputs) and nll_loss, with PyTorch's semantics.

Shapes: input (N, C) or (N, C, d1, ..., dk) of logits (log-probabilities for nll_loss), or (C,)
for one example; class-index targets (N, d1, ..., dk) (or ()), probability targets the input's
shape. The class axis is 1 (0 for an unbatched input).

'mean' over class indices is a weighted mean: sum(w[t_i] loss_i) / sum(w[t_i]) over the
non-ignored i, so with every target ignored it is 0 / 0 = nan, as in PyTorch (with a zero
gradient, as there).

Cross entropy over class indices runs one fused kernel (``kernels.cross_entropy``: the loss and
its gradient in one pass over the logits) on (rows, C) with the class axis moved last; label
smoothing and probability targets are composites of log_softmax.
"""

from tinygen import kernels
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.backend import get_array_module
from tinygen.errors import ArgumentError, DtypeError
from tinygen.ops.indexing import gather
from tinygen.ops.loss import legacy_reduction
from tinygen.ops.reduce import log_softmax, softmax
from tinygen.ops.shape import permute, reshape, squeeze
from tinygen.tensor import Tensor


class CrossEntropyRows(ArrayFunction):
    """loss_i = logsumexp(x_i) - x_i[t_i] for logits (N, C) and class indices t (N,); rows with
    t_i = ignore_index give 0. dloss_i/dx_i = softmax(x_i) - onehot(t_i), which the kernel
    returns with the loss."""
    @staticmethod
    def forward(ctx, logits, target, ignore_index):
        loss, grad = kernels.cross_entropy(logits, target, ignore_index)
        ctx.target, ctx.ignore_index = target, ignore_index
        ctx.save_for_backward(logits, grad)    # grad: a constant, freed with the graph
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        logits, grad = ctx.saved_tensors
        grad_loss = reshape(grad_loss, (-1, 1))
        if not is_grad_enabled():
            return grad * grad_loss, None, None
        # create_graph: softmax(x) - onehot(t) in tensor ops, so it can be differentiated again
        xp = get_array_module(logits.array)
        target = ctx.target
        kept = target != ctx.ignore_index
        rows = xp.arange(target.shape[0])
        onehot = xp.zeros(logits.shape, logits.dtype)
        onehot[rows[kept], target[kept]] = 1
        mask = Tensor(kept[:, None].astype(logits.dtype))
        return (softmax(logits, 1) - Tensor(onehot)) * mask * grad_loss, None, None


def _class_dim(input, name):
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{name}: not implemented for {input.dtype} input (as in "
                                  f"PyTorch); the input must be floating point, e.g. "
                                  f"input.float()")
    return 0 if input.ndim == 1 else 1


def _check_targets(input, target, ignore_index, name):
    """Check class-index targets: integer dtype, shape (N, d1, ...), values in [0, C) or
    ignore_index. Returns the target array."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}: target must be a Tensor, got {type(target).__name__}")
    class_dim = _class_dim(input, name)
    _check_device(target, input, "target", name)
    if target.dtype.kind not in "iu":
        raise RuntimeError(
            f"{name}: expected integer class indices as target (or, for cross_entropy, float "
            f"class probabilities of the input's shape {tuple(input.shape)}), got {target.dtype} "
            f"of shape {tuple(target.shape)}; convert class indices with .long()")
    expected = input.shape[:class_dim] + input.shape[class_dim + 1:]
    if class_dim and target.ndim and target.shape[0] != input.shape[0]:
        raise ValueError(f"{name}: Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    if target.shape != expected:           # ValueError before; RuntimeError in PyTorch
        raise ArgumentError(f"{name}: input of shape {tuple(input.shape)} needs a target of shape "
                         f"{tuple(expected)}, got {tuple(target.shape)}")
    kernels.reference.check_class_indices(target.array, input.shape[class_dim], ignore_index,
                                          name)
    return target.array


def _target_weights(t, weight, ignore_index, input, C, name):
    """(w, safe): w[i] = weight[t_i] (1 without weights) and 0 where t_i is ignored; safe is t
    with ignored entries replaced by class 0, usable as an index."""
    xp = get_array_module(t)
    kept = t != ignore_index
    safe = xp.where(kept, t, 0)
    if weight is None:
        return kept.astype(input.dtype), safe
    _check_class_weight(weight, input, C, name)
    if weight.dtype != input.dtype:        # PyTorch does not promote here (it does for probs)
        raise DtypeError(f"{name}: expected scalar type {input.dtype} but found {weight.dtype} "
                         f"(the class weights' dtype must be the input's)")
    return weight.array.astype(input.dtype, copy=False)[safe] * kept, safe


def _check_class_weight(weight, input, C, name):
    _check_device(weight, input, "weight", name)
    if weight.ndim != 1 or weight.shape[0] != C:
        raise RuntimeError(f"{name}: weight tensor should be defined either for all {C} classes "
                           f"or no classes but got weight tensor of shape {tuple(weight.shape)}")


def _check_device(tensor, input, what, name):
    if tensor.device != input.device:
        raise RuntimeError(f"{name}: input is on {input.device} but {what} is on "
                           f"{tensor.device}; move it with .to('{input.device}')")


def _per_class(weight, input, class_dim):
    """The class weights shaped to broadcast along the input's class axis."""
    return reshape(weight.to(input.dtype), (weight.shape[0],) + (1,) * (input.ndim - 1 -
                                                                        class_dim))


def _reduce_classes(loss, w, reduction):
    """Reduce per-target losses (already weighted, 0 where ignored); 'mean' divides by sum(w)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    # Every target ignored: the mean is 0 / 0 = nan, as in PyTorch, and the gradient is 0, as
    # there (each ignored row's is). Dividing by 0 would make the gradient nan too, so divide by
    # 1 and add the nan, a constant.
    xp = get_array_module(w)
    denominator = w.sum()
    empty = denominator == 0
    return (total / Tensor(xp.where(empty, 1, denominator))
            + Tensor(xp.where(empty, xp.nan, 0).astype(denominator.dtype)))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood -w[t_i] input[i, t_i] of log-probabilities ``input``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    t = _check_targets(input, target, ignore_index, "nll_loss")
    class_dim = _class_dim(input, "nll_loss")
    w, safe = _target_weights(t, weight, ignore_index, input, input.shape[class_dim],
                              "nll_loss")
    picked = squeeze(gather(input, class_dim, safe.reshape(safe.shape[:class_dim] + (1,) +
                                                           safe.shape[class_dim:])), class_dim)
    return _reduce_classes(-picked * Tensor(w), w, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy of logits ``input`` against class indices or class probabilities."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                            f"{label_smoothing}")
    class_dim = _class_dim(input, "cross_entropy")
    if isinstance(target, Tensor) and target.dtype.kind == "f" and target.shape == input.shape:
        return _probability_targets(input, target, weight, ignore_index, reduction,
                                    label_smoothing, class_dim)
    if isinstance(target, Tensor) and target.shape == input.shape:
        raise ArgumentError(f"cross_entropy: Expected floating point type for target with class "
                            f"probabilities, got {target.dtype} (target of the input's shape "
                            f"{tuple(input.shape)})")
    t = _check_targets(input, target, ignore_index, "cross_entropy")
    C = input.shape[class_dim]
    w, safe = _target_weights(t, weight, ignore_index, input, C, "cross_entropy")
    if label_smoothing > 0:
        return _smoothed(input, target, weight, ignore_index, reduction, label_smoothing, w,
                         class_dim)
    rows = input                             # (N, C): class axis last, one row per target
    if input.ndim == 1:
        rows = reshape(input, (1, C))
    elif input.ndim > 2:
        rows = reshape(permute(input, (0,) + tuple(range(2, input.ndim)) + (1,)), (-1, C))
    loss = CrossEntropyRows.apply(rows, t.reshape(-1), ignore_index)
    loss = reshape(loss, t.shape)
    return _reduce_classes(loss if weight is None else loss * Tensor(w), w, reduction)


def _smoothed(input, target, weight, ignore_index, reduction, label_smoothing, w, class_dim):
    """(1 - eps) CE + eps / C * sum over classes of -w_c log p_c: the cross entropy against
    targets smoothed to (1 - eps) onehot + eps / C (Szegedy et al. 2016), reduced as PyTorch."""
    log_p = log_softmax(input, class_dim)
    C = input.shape[class_dim]
    nll = nll_loss(log_p, target, weight, ignore_index=ignore_index, reduction=reduction)
    if weight is not None:
        log_p = log_p * _per_class(weight, input, class_dim)
    kept = Tensor((target.array != ignore_index).astype(input.dtype))
    smooth = _reduce_classes(-log_p.sum(class_dim) * kept, w, reduction)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / C)


def _probability_targets(input, target, weight, ignore_index, reduction, label_smoothing,
                         class_dim):
    """-sum over classes of w_c q_c log p_c for class probabilities q (smoothed to
    (1 - eps) q + eps / C); 'mean' divides by the number of examples, N d1 ... dk."""
    if ignore_index >= 0:
        raise RuntimeError("cross_entropy: ignore_index is not supported for class-probability "
                           "(floating point) targets")
    C = input.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / C
    product = log_softmax(input, class_dim) * target.to(input.dtype)
    if weight is not None:
        _check_class_weight(weight, input, C, "cross_entropy")
        product = product * _per_class(weight, input, class_dim)
    if reduction == "none":
        return -product.sum(class_dim)
    total = -product.sum()
    if reduction == "sum":
        return total
    examples = input.numel() // C if C else 0
    return total / (examples if examples else float("nan"))
