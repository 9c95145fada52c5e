"""Embedding lookup: row ``i`` of a weight matrix for each integer id ``i``.

Forward is an index into the rows (``weight[input]``); backward adds each output row's gradient
into the row it came from (``IndexAdd``, so an id used twice gets both gradients), except that
the row ``padding_idx`` gets none, as in PyTorch.
"""

from tinygen import device_checks
from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.errors import ArgumentAssertionError, ArgumentError, DtypeError
from tinygen.ops.indexing import IndexAdd
from tinygen.tensor import Tensor


class Embedding(ArrayFunction):
    """y = weight[ids];  grad_weight[r] = sum of grad_y over the positions whose id is r
    (zero for r = padding_idx)."""
    @staticmethod
    def forward(ctx, weight, ids, padding_idx):
        ctx.ids, ctx.shape = ids, weight.shape
        ctx.keep = None if padding_idx is None else (ids != padding_idx)[..., None]
        return weight[ids]

    @staticmethod
    def backward(ctx, grad_y):
        if ctx.keep is not None:                         # a constant mask: stays differentiable
            grad_y = grad_y * Tensor(ctx.keep.astype(grad_y.dtype))
        return IndexAdd.apply(grad_y, ctx.shape, (ctx.ids,)), None, None


def embedding(input, weight, padding_idx=None):
    """Look up rows of ``weight`` (num_embeddings, embedding_dim) for the integer ids ``input``
    (any shape): the result has shape input.shape + (embedding_dim,).

    ``padding_idx`` (negative counts from the end) names a row that gets no gradient.
    ``F.embedding`` (tinygen/nn/embedding.py) adds PyTorch's max_norm and scale_grad_by_freq.
    """
    if isinstance(input, Tensor) and input.device != weight.device:
        raise RuntimeError(f"embedding: the ids are on {input.device} but the weight is on "
                           f"{weight.device}; move the ids with .to({str(weight.device)!r})")
    ids = input.array if isinstance(input, Tensor) else get_array_module(weight.array).asarray(
        input)
    if ids.dtype.kind not in "iu":
        raise DtypeError(f"embedding: expected integer ids (int64 or int32), got {ids.dtype}; "
                         f"convert them with .long()")
    if weight.ndim != 2:
        raise ArgumentError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), "
                            f"got shape {tuple(weight.shape)}")
    count = weight.shape[0]
    if ids.size:
        low, high = ids.min(), ids.max()
        device_checks.check(
            (low < 0) | (high >= count),
            lambda low, high: IndexError(f"embedding: id {low if low < 0 else high} is out of "
                                         f"range for {count} embeddings (valid ids are 0 to "
                                         f"{count - 1}): index out of range in self"),
            low, high, op="embedding")
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise ArgumentAssertionError(f"embedding: padding_idx {padding_idx} must be within "
                                         f"the {count} embeddings")
        padding_idx %= count
    return Embedding.apply(weight, ids, padding_idx)
