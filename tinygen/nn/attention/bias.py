"""``torch.nn.attention.bias``: causal masks passed to ``scaled_dot_product_attention`` as
``attn_mask`` without building them.

    from tinygen.nn.attention.bias import causal_lower_right
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(L, S))

Upper left: query i sees keys j <= i (``is_causal=True``). Lower right: the queries are the last
L of the S positions, so query i sees keys j <= i + S - L (a KV cache's view). The two agree when
L == S. As in PyTorch, ``CausalBias`` is a Tensor (its values are the materialised boolean
mask, True = may attend); ``scaled_dot_product_attention`` hands it to ``_dispatch`` (PyTorch's
``__torch_function__`` route), which runs upper left as ``is_causal=True`` and lower right with
its mask built on the query's device, as PyTorch does on a CPU.
"""

import enum
import warnings

import numpy as np

from tinygen.backend import get_array_module
from tinygen.ops import attention as attention_ops
from tinygen.tensor import Tensor

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(enum.IntEnum):
    """``UPPER_LEFT`` (tril(ones(L, S))) or ``LOWER_RIGHT`` (tril(ones(L, S), S - L))."""
    UPPER_LEFT = enum.auto()
    LOWER_RIGHT = enum.auto()


class CausalBias(Tensor):
    """A causal (triangular) attention mask of ``variant`` for ``seq_len_q`` queries and
    ``seq_len_kv`` keys; make it with ``causal_upper_left`` or ``causal_lower_right``."""

    def __init__(self, variant, seq_len_q, seq_len_kv):
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
        self.variant, self.seq_len_q, self.seq_len_kv = variant, seq_len_q, seq_len_kv
        super().__init__(self._mask(np))
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warnings.warn("Lower right causal bias will produce NaNs in the output when "
                          "seq_len_q > seq_len_kv!", stacklevel=2)

    def _mask(self, xp):
        """The boolean (L, S) mask as an array of ``xp`` (numpy or cupy)."""
        offset = 0 if self.variant == CausalVariant.UPPER_LEFT else self.seq_len_kv - self.seq_len_q
        return xp.tri(self.seq_len_q, self.seq_len_kv, offset, dtype=bool)

    def _materialize(self, device=None):
        """The mask as a plain boolean Tensor on ``device`` (the CPU by default)."""
        mask = Tensor(self._mask(np))
        return mask if device is None else mask.to(device)

    @staticmethod
    def _dispatch(query, key, value, attn_mask, dropout_p=0.0, is_causal=False, scale=None,
                  enable_gqa=False):
        """``scaled_dot_product_attention`` with this bias as its mask: ``is_causal=True`` for
        upper left (or L == S); lower right with its mask on the query's device."""
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if not isinstance(attn_mask.variant, CausalVariant):
            raise ValueError(f"CausalBias.variant must be a CausalVariant type, but found: "
                             f"{attn_mask.variant}")
        lower_right = (attn_mask.variant == CausalVariant.LOWER_RIGHT
                       and attn_mask.seq_len_q != attn_mask.seq_len_kv)
        if not lower_right:
            return attention_ops.scaled_dot_product_attention(
                query, key, value, None, dropout_p, True, scale, enable_gqa)
        mask = Tensor(attn_mask._mask(get_array_module(query.array)))
        return attention_ops.scaled_dot_product_attention(
            query, key, value, mask, dropout_p, False, scale, enable_gqa)

    def __repr__(self):
        return repr(self._materialize())


def causal_upper_left(*size):
    """The UPPER_LEFT CausalBias of shape (seq_len_q, seq_len_kv): ``is_causal=True``'s mask."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    return CausalBias(CausalVariant.UPPER_LEFT, *size)


def causal_lower_right(*size):
    """The LOWER_RIGHT CausalBias of shape (seq_len_q, seq_len_kv), aligned to the last key."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    return CausalBias(CausalVariant.LOWER_RIGHT, *size)
