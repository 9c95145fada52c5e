"""``EmbeddingBag`` and ``F.embedding_bag``: the sum, mean or max of bags of embedding rows,
without building the (bags, length, dim) tensor of looked-up rows in the user's code.

Bags are given as a 1-D ``input`` with ``offsets`` (where each bag starts) or as the rows of a
2-D ``input``. The rows are looked up with ``F.embedding`` (so ``max_norm`` and
``scale_grad_by_freq`` act as there); sum and mean are then one matrix product with a (bags,
positions) weight matrix (1, 1 / count or the per-sample weight, 0 outside the bag and at
``padding_idx``), max gathers each bag's argmax row per feature. Both are differentiable ops, so
gradients reach the weight and ``per_sample_weights``. Empty bags give zeros, as in PyTorch.
"""

from tinygen.backend import get_array_module
from tinygen.nn.embedding import Embedding, embedding, set_table
from tinygen.nn.module import Module
from tinygen.ops.indexing import gather
from tinygen.tensor import Tensor

_MODES = ("sum", "mean", "max")


def _bags(input, offsets, include_last_offset):
    """The flat ids and, per position, the bag it belongs to (-1 for none), and the bag count."""
    xp = get_array_module(input.array)
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        B, L = input.shape
        return input.array.reshape(-1), xp.repeat(xp.arange(B), L), B
    if input.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if offsets is None or offsets.ndim != 1:
        raise ValueError(f"offsets has to be a 1D Tensor but got "
                         f"{None if offsets is None else list(offsets.shape)}")
    starts = offsets.array.astype(xp.int64)
    if starts.size and int(starts[0]) != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {int(starts[0])}")
    if starts.size > 1 and bool((xp.diff(starts) < 0).any()):
        raise RuntimeError(f"embedding_bag: offsets must be non-decreasing, got {starts.tolist()}")
    n = input.shape[0]
    if starts.size and int(starts[-1]) > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                           f"offsets[-1] of {int(starts[-1])}")
    B = starts.size - 1 if include_last_offset else starts.size
    # bag of position i: the last start <= i. With include_last_offset the last bag runs to the
    # end of input whatever offsets[-1] says (PyTorch reads that entry as len(input))
    bag = xp.searchsorted(starts, xp.arange(n), side="right") - 1
    if include_last_offset:
        bag = xp.minimum(bag, B - 1)
    return input.array, bag, B


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Each bag's sum, mean or max of the rows of ``weight`` named by its ids: (bags, dim).
    Ids equal to ``padding_idx`` are left out of their bag (and of the mean's count);
    ``per_sample_weights`` (input's shape, mode='sum' only) scales each row before the sum."""
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}').")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}"
                         f") is not None, then it must have the same shape as the input "
                         f"({list(input.shape)})")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(f"embedding_bag: per_sample_weights ({per_sample_weights.dtype}) "
                           f"must have the dtype of weight ({weight.dtype})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    if sparse:
        raise NotImplementedError("embedding_bag: sparse=True is not supported (dense grads)")
    ids, bag, B = _bags(input, offsets, include_last_offset)
    xp = get_array_module(ids)
    if padding_idx is not None:
        padding_idx %= weight.shape[0]
        bag = xp.where(ids == padding_idx, -1, bag)
    rows = embedding(Tensor(ids), weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)
    member = bag[None, :] == xp.arange(B)[:, None]                     # (B, positions)
    if mode == "max":
        return _bag_max(rows, member, xp)
    matrix = member.astype(weight.dtype)
    if mode == "mean":
        matrix = matrix / xp.maximum(matrix.sum(1, keepdims=True), 1)
    matrix = Tensor(matrix)
    if per_sample_weights is not None:
        matrix = matrix * per_sample_weights.reshape(1, -1)
    return matrix @ rows


def _bag_max(rows, member, xp):
    """Per bag and feature, the largest row value (gathered, so its gradient goes to that one
    row); 0 for an empty bag."""
    values = xp.where(member[:, :, None], rows.array[None], -xp.inf)   # (B, positions, D)
    if values.shape[1] == 0:
        return rows.sum(0, keepdim=True).expand(member.shape[0], rows.shape[1]) * 0
    best = values.argmax(1)                                             # (B, D)
    picked = gather(rows, 0, best)
    empty = ~member.any(1, keepdims=True)
    return picked * Tensor((~empty).astype(rows.dtype))


class EmbeddingBag(Module):
    """weight (num_embeddings, embedding_dim) drawn from N(0, 1) as in PyTorch (row
    ``padding_idx`` zeroed); ``forward(input, offsets=None, per_sample_weights=None)`` gives
    each bag's sum, mean or max (``mode``) of its rows, as ``F.embedding_bag``."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        if mode not in _MODES:
            raise ValueError("mode has to be one of sum, mean or max")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        self.padding_idx = padding_idx
        set_table(self, _weight, device, dtype)

    reset_parameters = Embedding.reset_parameters

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag holding the 2-D ``embeddings``; ``freeze`` stops it from training."""
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  embeddings, include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
