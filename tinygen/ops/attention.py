"""Scaled dot-product attention: softmax(q k^T * scale + mask) v, and the causal softmax op.

Shapes follow PyTorch: query (..., L, E), key (..., S, E), value (..., S, Ev) give (..., L, Ev);
the leading dims (batch, heads) broadcast. ``is_causal=True`` runs ``CausalSoftmax``, one fused
kernel that scales, hides the future and normalises without building a mask tensor.
"""

import math

from tinygen import device_checks, kernels
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.grad_mode import is_grad_enabled
from tinygen.backend import get_array_module
from tinygen.ops.attention_backends import check_sdp_backend
from tinygen.ops.compare import where
from tinygen.ops.dropout import dropout
from tinygen.ops.reduce import softmax
from tinygen.tensor import Tensor


class CausalSoftmax(ArrayFunction):
    """y = softmax(scale * scores) over the keys each query may see, 0 on the others.

    Query i of T sees key j of S when j <= i + (S - T): the queries are the LAST T positions of
    the S keys, which is what a KV cache needs (T = 1 sees everything).
    Backward: grad_scores = scale * y * (grad_y - sum(grad_y * y)); hidden keys have y = 0 and
    get no gradient.
    """
    @staticmethod
    def forward(ctx, scores, scale):
        ctx.scale = scale
        y = kernels.causal_softmax(scores, scale)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        if is_grad_enabled():                     # tensor ops, so they can be differentiated
            grad = y * (grad_y - (grad_y * y).sum(-1, keepdim=True)) * ctx.scale
        else:
            grad = Tensor(kernels.softmax_backward(y.array, grad_y.array) * ctx.scale)
        return grad, None


def causal_softmax(scores, scale=1.0):
    """softmax(scale * scores) over the last dim with the future hidden (see CausalSoftmax)."""
    return CausalSoftmax.apply(scores, float(scale))


def masked_softmax(scores, mask):
    """softmax over the last dim of ``scores`` with a boolean ``mask`` (True = attend) or a float
    mask added to the scores. A row with nothing to attend to gives zeros (as PyTorch's SDPA),
    not nan, and no gradient."""
    if mask.dtype.kind not in "bf":     # an int 0/1 mask added to the scores would mask nothing
        raise TypeError(f"scaled_dot_product_attention: attn_mask must be bool (True = may "
                        f"attend) or float (added to the scores), got {mask.dtype}; for a 0/1 "
                        f"mask pass mask.bool()")
    if mask.dtype.kind == "b":
        scores = where(mask, scores, -math.inf)
    else:
        scores = scores + mask.to(scores.dtype)
    dead = (scores.array == -math.inf).all(axis=-1, keepdims=True)
    if not device_checks.deferred(dead) and not dead.any():   # a GPU would stall on this read
        return softmax(scores, -1)
    dead = Tensor(dead)
    return where(dead, 0.0, softmax(where(dead, 0.0, scores), -1))


def _check_shapes(query, key, value):
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value need at least "
                           f"2 dims (..., seq, features), got {tuple(query.shape)}, "
                           f"{tuple(key.shape)}, {tuple(value.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query has {query.shape[-1]} features "
                           f"per position but key has {key.shape[-1]} (shapes "
                           f"{tuple(query.shape)} and {tuple(key.shape)})")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key has {key.shape[-2]} positions "
                           f"but value has {value.shape[-2]} (shapes {tuple(key.shape)} and "
                           f"{tuple(value.shape)})")


def attention_weights(query, key, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                      causal_lower_right=False):
    """softmax(query key^T * scale + mask) with dropout: the (..., L, S) attention weights.

    ``is_causal`` hides the future as PyTorch does, aligned to the top left: query i sees keys
    j <= i. With ``causal_lower_right`` the L queries are instead the LAST L of the S positions
    (j <= i + S - L, PyTorch's ``causal_lower_right``), which a KV cache needs. The two agree
    when L == S, and run the fused CausalSoftmax; top-left with L != S builds its mask."""
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    L, S = query.shape[-2], key.shape[-2]
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: attn_mask must be None when "
                           "is_causal=True (the causal mask is built in)")
    if is_causal and (L == S or causal_lower_right):
        weights = causal_softmax(query @ key.transpose(-2, -1), scale)
    else:
        if is_causal:                                      # top left, L != S: j <= i
            attn_mask = Tensor(get_array_module(query.array).tri(L, S, dtype=bool))
        scores = (query * scale) @ key.transpose(-2, -1)   # scale the smaller operand
        weights = softmax(scores, -1) if attn_mask is None else masked_softmax(scores, attn_mask)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights


def _repeat_heads(x, groups):
    """(..., Hk, S, E) -> (..., Hk * groups, S, E), each head repeated ``groups`` times in a row
    (``repeat_interleave`` along dim -3, as PyTorch's enable_gqa does)."""
    *lead, heads, length, features = x.shape
    return x.unsqueeze(-3).expand(*lead, heads, groups, length, features).reshape(
        *lead, heads * groups, length, features)


def _share_heads(query, key, value):
    """Grouped-query attention: key and value heads each serve Hq / Hk query heads."""
    if query.ndim < 3 or key.ndim < 3:
        raise RuntimeError("scaled_dot_product_attention: enable_gqa needs (..., heads, seq, "
                           "features) inputs")
    q_heads, kv_heads = query.shape[-3], key.shape[-3]
    if q_heads % kv_heads or value.shape[-3] != kv_heads:
        raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the query heads "
                           f"({q_heads}) must be a multiple of the key and value heads "
                           f"({kv_heads}, {value.shape[-3]})")
    groups = q_heads // kv_heads
    return _repeat_heads(key, groups), _repeat_heads(value, groups)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, with PyTorch's arguments.

    attn_mask: bool (True = may attend) or float (added to the scores), broadcast to
    (..., L, S). dropout_p: dropout on the attention weights, applied whenever it is > 0 (pass
    0.0 in eval mode, as with PyTorch). scale: defaults to 1 / sqrt(E). enable_gqa: key and
    value may have fewer heads (dim -3) than query, each shared by Hq / Hk query heads.

    is_causal: query i sees keys j <= i (top left, as PyTorch, also when L != S). A query that
    may attend to nothing gets zeros, as in PyTorch.
    """
    if hasattr(type(attn_mask), "_dispatch"):       # nn.attention.bias.CausalBias
        return attn_mask._dispatch(query, key, value, attn_mask, dropout_p, is_causal, scale,
                                   enable_gqa)
    _check_shapes(query, key, value)
    check_sdp_backend(query, key, value, dropout_p, enable_gqa)   # sdpa_kernel's choice
    if enable_gqa and key.ndim >= 3 and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _share_heads(query, key, value)
    return attention_weights(query, key, attn_mask, dropout_p, is_causal, scale) @ value
