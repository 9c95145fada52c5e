"""Margin and embedding losses, as in ``torch.nn.functional``: margin_ranking, hinge_embedding,
soft_margin, multilabel_soft_margin, cosine_embedding and triplet_margin; and the class-index
ones multi_margin, multilabel_margin and triplet_margin_with_distance.

Targets are labels in {1, -1} (or {0, 1} for multilabel_soft_margin) and, as in PyTorch,
broadcast against the inputs. Each takes ``reduction='mean'|'sum'|'none'`` and the deprecated
``size_average`` / ``reduce`` pair (``reduce_loss`` and ``legacy_reduction`` of loss.py).
"""

from tinygen.backend import get_array_module
from tinygen.ops.activation import logsigmoid
from tinygen.ops.compare import clamp, minimum, where
from tinygen.ops.distance import pairwise_distance
from tinygen.ops.indexing import gather
from tinygen.tensor import Tensor
from tinygen.ops.loss import _float_target, legacy_reduction, reduce_loss

_COSINE_EPS = 1e-12            # PyTorch's floor under the squared norms of cosine_embedding


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -y (x1 - x2) + margin): x1 should rank above x2 by ``margin`` where y = 1, below
    where y = -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {tuple(input1.shape)}, input2: "
                           f"{tuple(input2.shape)}, target: {tuple(target.shape)}")
    return reduce_loss(clamp(-target * (input1 - input2) + margin, min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1; ``input`` is usually a distance.
    Other labels get both terms, as in PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    margin_term = where(target != 1, clamp(margin - input, min=0), 0)
    return reduce_loss(margin_term + where(target != -1, input, 0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x)), the logistic loss for labels y in {1, -1} (computed as
    -logsigmoid(y x), finite for any x where PyTorch's overflows to inf)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _float_target(input, target, "soft_margin_loss")
    return reduce_loss(-logsigmoid(target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Binary cross entropy of logits against {0, 1} labels, averaged over the C classes (last
    dim): -mean_c w_c (y_c log s(x_c) + (1 - y_c) log s(-x_c)), s = sigmoid."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _float_target(input, target, "multilabel_soft_margin_loss")
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss.sum(-1) / input.shape[-1], reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1, cosines taken
    over the last dim: (N, D) inputs with an (N,) target, or (D,) inputs with a 0-d target."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if target.ndim > 1:
        raise RuntimeError(f"cosine_embedding_loss: 0D or 1D target tensor expected, "
                           f"multi-target not supported (got shape {tuple(target.shape)})")
    if input1.ndim != target.ndim + 1 or input2.ndim != target.ndim + 1:
        raise RuntimeError(f"cosine_embedding_loss: {target.ndim}D target tensor expects "
                           f"{target.ndim + 1}D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    # PyTorch's formula: dot / sqrt((|x1|^2 + eps) (|x2|^2 + eps)), finite for zero vectors
    dot = (input1 * input2).sum(-1)
    square1 = (input1 * input1).sum(-1) + _COSINE_EPS
    square2 = (input2 * input2).sum(-1) + _COSINE_EPS
    cos = dot / (square1 * square2).sqrt()
    loss = where(target == 1, 1 - cos, 0) + where(target == -1, clamp(cos - margin, min=0), 0)
    return reduce_loss(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) with d the ``pairwise_distance`` (p-norm over the last
    dim); ``swap`` uses min(d(a, n), d(p, n)) as the negative distance (Balntas et al. 2016)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    distance_positive = pairwise_distance(anchor, positive, p, eps)
    distance_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        distance_negative = minimum(distance_negative,
                                    pairwise_distance(positive, negative, p, eps))
    loss = clamp(margin + distance_positive - distance_negative, min=0)
    return reduce_loss(loss, reduction)


def _class_targets(input, target, name):
    """input (N, C), (C,) or 0-d (one class) and integer class targets, one per row ((N,), or
    0-d or (1,) for a single row), as (N, C) and an (N,) array (PyTorch's shape check)."""
    rows = input.shape[0] if input.ndim == 2 else 1
    if input.ndim > 2 or 0 in input.shape[1:] or (input.ndim == 1 and input.shape[0] == 0):
        raise RuntimeError(f"{name}: Expected non-empty vector or matrix with optional 0-dim "
                           f"batch size, but got: {list(input.shape)}")
    if target.ndim > 1 or target.numel() != rows:
        raise RuntimeError(f"{name}: inconsistent target size, expected {rows} but got "
                           f"{list(target.shape)} for input of size {list(input.shape)}")
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: expected an integer target, got {target.dtype}")
    x = input.reshape(rows, -1)
    labels = target.array.reshape(-1)
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= x.shape[1]):
        raise RuntimeError("target out of range")
    return x, labels


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """The multi-class hinge loss: sum over classes i != y of w_y max(0, margin - x_y + x_i)^p,
    divided by the number of classes C (p is 1 or 2)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"multi_margin_loss: weight must be one-dimensional, got shape "
                         f"{list(weight.shape)}")
    x, labels = _class_targets(input, target, "multi_margin_loss")
    C = x.shape[1]
    if weight is not None and weight.shape[0] != C:
        raise RuntimeError(f"multi_margin_loss: expected weight to be a 1-D tensor of size {C}, "
                           f"got {list(weight.shape)}")
    xp = get_array_module(labels)
    x_y = gather(x, 1, labels[:, None])
    hinge = clamp(margin - x_y + x, min=0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight[Tensor(labels)].unsqueeze(1)
    others = Tensor((xp.arange(C)[None, :] != labels[:, None]).astype(x.dtype))
    loss = (hinge * others).sum(1) / C
    return reduce_loss(loss.reshape(()) if target.ndim == 0 else loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """The multi-label hinge loss: sum over targets j and non-targets i of
    max(0, 1 - (x_j - x_i)) / C. Each row of ``target`` lists class indices, ended by the
    first -1 (the rest is ignored)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if input.ndim > 2 or 0 in input.shape[1:] or (input.ndim == 1 and input.shape[0] == 0):
        raise RuntimeError(f"multilabel_margin_loss: Expected non-empty vector or matrix with "
                           f"optional 0-dim batch size, but got: {list(input.shape)}")
    single = input.ndim <= 1                        # one row: a 0-d input is one class
    if single:
        consistent = target.ndim <= 1 and target.numel() == input.numel()
    else:
        consistent = tuple(target.shape) == tuple(input.shape)
    if not consistent:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"multilabel_margin_loss: expected an integer target, got "
                           f"{target.dtype}")
    x = input.reshape(1, -1) if single else input
    C = x.shape[1]
    labels = target.array.reshape(-1, C)
    xp = get_array_module(labels)
    valid = xp.cumprod(labels >= 0, axis=1).astype(bool)            # before the first -1
    if bool(((labels >= C) & valid).any()):
        raise RuntimeError("multilabel_margin_loss: target out of range")
    labels = xp.where(valid, labels, 0)
    is_target = (labels[:, :, None] == xp.arange(C)[None, None, :]) & valid[:, :, None]
    is_target = is_target.any(1)                                    # (N, C)
    pairs = valid[:, :, None] & ~is_target[:, None, :]              # (N, target j, class i)
    x_j = gather(x, 1, labels).unsqueeze(2)
    hinge = clamp(1 - x_j + x.unsqueeze(1), min=0) * Tensor(pairs.astype(x.dtype))
    loss = hinge.sum((1, 2)) / C
    return reduce_loss(loss.reshape(()) if single else loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) for any ``distance_function`` (default
    ``pairwise_distance``); ``swap`` uses min(d(a, n), d(p, n)) as the negative distance."""
    reduction = legacy_reduction(None, None, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    distance = distance_function if distance_function is not None else pairwise_distance
    distance_positive = distance(anchor, positive)
    distance_negative = distance(anchor, negative)
    if swap:
        distance_negative = minimum(distance_negative, distance(positive, negative))
    return reduce_loss(clamp(margin + distance_positive - distance_negative, min=0), reduction)
