"""``F.multi_head_attention_forward``: ``MultiheadAttention``'s forward with the weights passed
in, as PyTorch's functional form. It runs ``MultiheadAttention.forward`` itself (projections,
bias_k/bias_v and zero-attention positions, mask merging, weights) on a stand-in that holds the
given tensors instead of owning Parameters, so the two cannot drift apart.

Differs from PyTorch: ``static_k`` / ``static_v`` (precomputed per-head keys and values) are not
supported and raise NotImplementedError.
"""

from tinygen.nn.attention import MultiheadAttention
from tinygen.nn.linear import linear
from tinygen.nn.module import Module


class _GivenWeights(MultiheadAttention):
    """A MultiheadAttention whose attributes are the given tensors and flags (no Parameters)."""

    def __init__(self, **attributes):
        Module.__init__(self)
        for name, value in attributes.items():
            object.__setattr__(self, name, value)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """(attn_output, attn_weights) of multi-head attention over query (L, N, E) or (L, E) and
    key/value (S, N, E_k/E_v) or (S, E_k/E_v), with the projections given: ``in_proj_weight``
    (3E, E), or ``q/k/v_proj_weight`` with ``use_separate_proj_weight``. See
    ``nn.MultiheadAttention.forward`` for the masks and outputs."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k and static_v are not "
                                  "supported by tinygen; pass the keys and values to project")
    embed_dim = query.shape[-1]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    if embed_dim % num_heads:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must be given together")
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but q_proj_weight, "
                                 "k_proj_weight or v_proj_weight is None")
        kdim, vdim = key.shape[-1], value.shape[-1]
    else:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        kdim = vdim = embed_dim
    attention = _GivenWeights(
        embed_dim=embed_dim, kdim=kdim, vdim=vdim, num_heads=num_heads,
        head_dim=embed_dim // num_heads, dropout=dropout_p, batch_first=False,
        _qkv_same_embed_dim=not use_separate_proj_weight, in_proj_weight=in_proj_weight,
        q_proj_weight=q_proj_weight, k_proj_weight=k_proj_weight, v_proj_weight=v_proj_weight,
        in_proj_bias=in_proj_bias, bias_k=bias_k, bias_v=bias_v, add_zero_attn=add_zero_attn,
        out_proj=lambda x: linear(x, out_proj_weight, out_proj_bias), training=training)
    return attention.forward(query, key, value, key_padding_mask, need_weights, attn_mask,
                             average_attn_weights, is_causal)
