"""Attention layers: PyTorch's ``MultiheadAttention`` and a GPT-style ``CausalSelfAttention``
with an optional ``KVCache`` for generation.

Shapes: N (or B) batch, L target and S source length, E (or C) embedding, h (or nh) heads,
hd (or hs) = E // h per head.
"""

import math

from tinygen import creation
from tinygen.nn import init
from tinygen.nn.dropout import Dropout
from tinygen.nn.linear import Linear, linear
from tinygen.nn.module import Module
from tinygen.nn.parameter import Parameter
from tinygen.ops.attention import attention_weights
from tinygen.ops.compare import where
from tinygen.ops.pad import pad
from tinygen.ops.shape import cat


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear``; PyTorch's class name for ``MultiheadAttention.out_proj``, kept so that
    reprs and checkpoints read the same."""


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameters, masks and outputs.

    Parameters: ``in_proj_weight`` (3E, E) holding the q, k, v projections (or
    ``q_proj_weight``, ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) when kdim or
    vdim differ from E), ``in_proj_bias`` (3E,), ``bias_k`` and ``bias_v`` (1, 1, E) with
    add_bias_kv, and ``out_proj`` (a Linear E -> E). The projections start xavier-uniform,
    bias_k and bias_v xavier-normal and the other biases at zero, as in PyTorch.

    add_bias_kv appends bias_k and bias_v to the projected keys and values as one more source
    position; add_zero_attn then appends a zero key and value. Every query may attend to the
    appended positions (the masks get a column of "allowed"), so S grows by one for each and
    the attention weights are (N, L, S + extra).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads})")
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads

        def weight(*shape):
            return Parameter(creation.empty(*shape, device=device, dtype=dtype))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = weight(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = weight(embed_dim, embed_dim)
            self.k_proj_weight = weight(embed_dim, self.kdim)
            self.v_proj_weight = weight(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", weight(3 * embed_dim) if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = weight(1, 1, embed_dim)
            self.bias_v = weight(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _project(self, query, key, value):
        """q, k, v = the three input projections, each (N, len, E)."""
        E = self.embed_dim
        b = self.in_proj_bias
        biases = (None,) * 3 if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:             # self-attention: one matmul
                return linear(query, w, b).chunk(3, dim=-1)
            weights = (w[:E], w[E:2 * E], w[2 * E:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(linear(x, w, bias) for x, w, bias in zip((query, key, value), weights,
                                                               biases))

    def _extra_positions(self, k, v):
        """k and v (N, S, E) with PyTorch's extra source positions appended: bias_k and bias_v
        (add_bias_kv), then a zero key and value (add_zero_attn)."""
        N, _, E = k.shape
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(N, 1, E)], 1)
            v = cat([v, self.bias_v.expand(N, 1, E)], 1)
        if self.add_zero_attn:
            zeros = creation.zeros(N, 1, E, dtype=k.dtype, device=k.device)
            k, v = cat([k, zeros], 1), cat([v, zeros], 1)
        return k, v

    def _check(self, query, key, value):
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"MultiheadAttention: expected query, key and value all 3-D "
                             f"(batched) or all 2-D (unbatched), got shapes "
                             f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        for name, x, dim in (("query", query, self.embed_dim), ("key", key, self.kdim),
                             ("value", value, self.vdim)):
            if x.shape[-1] != dim:
                raise ValueError(f"MultiheadAttention: was expecting embedding dimension of "
                                 f"{dim} for the {name}, but got {x.shape[-1]} (shape "
                                 f"{tuple(x.shape)})")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"MultiheadAttention: key and value must have the same batch and "
                             f"length, got {tuple(key.shape)} and {tuple(value.shape)}")
        batch = 0 if self.batch_first else 1
        if query.ndim == 3 and query.shape[batch] != key.shape[batch]:
            raise ValueError(f"MultiheadAttention: query and key must have the same batch size "
                             f"(dim {batch} with batch_first={self.batch_first}), got shapes "
                             f"{tuple(query.shape)} and {tuple(key.shape)}")

    def _merged_mask(self, key_padding_mask, attn_mask, N, L, S, like):
        """One additive float mask broadcasting to (N, h, L, S), or None. Boolean masks here
        are True where attending is NOT allowed (PyTorch's MultiheadAttention convention, the
        opposite of scaled_dot_product_attention's)."""
        mask = None
        if attn_mask is not None:
            shapes = {2: (L, S), 3: (N * self.num_heads, L, S)}
            if attn_mask.ndim not in shapes or tuple(attn_mask.shape) != shapes[attn_mask.ndim]:
                raise RuntimeError(f"MultiheadAttention: attn_mask has shape "
                                   f"{tuple(attn_mask.shape)}, but should be {(L, S)} or "
                                   f"{(N * self.num_heads, L, S)}")
            mask = _additive(attn_mask, like)
            if attn_mask.ndim == 3:
                mask = mask.reshape(N, self.num_heads, L, S)
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (N, S):
                raise RuntimeError(f"MultiheadAttention: key_padding_mask has shape "
                                   f"{tuple(key_padding_mask.shape)}, expected {(N, S)}")
            padding = _additive(key_padding_mask, like).reshape(N, 1, 1, S)
            mask = padding if mask is None else mask + padding
        return mask

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """(attn_output, attn_weights). Inputs are (L, N, E) (or (N, L, E) with batch_first,
        or (L, E) unbatched); attn_weights is (N, L, S) averaged over heads, (N, h, L, S) with
        average_attn_weights=False, or None when need_weights is False.

        ``is_causal`` is only a hint that attn_mask is the causal mask (as in PyTorch): the
        mask must still be given. Where PyTorch returns nan weights for a query whose every key
        is masked, tinygen returns zeros (as PyTorch's own need_weights=False path does).
        """
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: need attn_mask if specifying the is_causal "
                               "hint (e.g. a (L, L) bool mask, True above the diagonal)")
        self._check(query, key, value)
        batched = query.ndim == 3
        if not batched and key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
        self_attention = query is key and key is value
        query = self._batch_first(query, batched)                 # (N, L, E)
        if self_attention:
            key = value = query
        else:
            key, value = self._batch_first(key, batched), self._batch_first(value, batched)
        N, L, E = query.shape
        S = key.shape[1]
        h, hd = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)                          # (N, len, E)
        k, v = self._extra_positions(k, v)                                  # (N, S + extra, E)
        q, k, v = (x.reshape(N, -1, h, hd).transpose(1, 2) for x in (q, k, v))  # (N, h, len, hd)
        mask = self._merged_mask(key_padding_mask, attn_mask, N, L, S, q)
        if mask is not None and k.shape[2] > S:       # the extra positions: allowed (0 added)
            mask = pad(mask, (0, k.shape[2] - S))
        weights = attention_weights(q, k, mask, self.dropout if self.training else 0.0)
        out = self.out_proj((weights @ v).transpose(1, 2).reshape(N, L, E))  # (N, L, E)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(1)
        return out, (weights if batched else weights.squeeze(0))

    def _batch_first(self, x, batched):
        """x as (N, len, features) from (len, N, ...), (N, len, ...) or unbatched (len, ...)."""
        if not batched:
            return x.unsqueeze(0)
        return x if self.batch_first else x.transpose(0, 1)


def _additive(mask, like):
    """A bool mask (True = blocked) as 0 / -inf in ``like``'s dtype; a float mask as it is."""
    if mask.dtype.kind not in "bf":     # an int 0/1 mask added to the scores would mask nothing
        raise TypeError(f"MultiheadAttention: masks must be bool (True = may NOT attend) or "
                        f"float (added to the scores), got {mask.dtype}; for a 0/1 padding "
                        f"mask pass mask.bool()")
    if mask.dtype.kind == "b":
        return where(mask, -math.inf, 0.0).to(like.dtype)
    return mask.to(like.dtype)


class KVCache:
    """The keys and values one attention layer has seen so far, for generating token by token.

    ``update(k, v)`` appends the new positions (along dim -2) and returns all of them. Keep one
    cache per layer and per sequence batch; make a new one (or ``clear()``) to start over.
    """

    def __init__(self):
        self.key = None
        self.value = None

    def update(self, key, value):
        if self.key is None:
            self.key, self.value = key, value
        else:
            self.key, self.value = cat([self.key, key], -2), cat([self.value, value], -2)
        return self.key, self.value

    def clear(self):
        self.key = self.value = None

    def __len__(self):
        return 0 if self.key is None else self.key.shape[-2]


class CausalSelfAttention(Module):
    """Causal multi-head self-attention for a GPT. B batch, T time, C channels, nh heads,
    hs = C // nh. ``qkv`` projects to q, k, v of every head in one matmul; ``proj`` mixes the
    heads back; dropout on the attention weights and on the output (training only).

    ``forward(x, kv_cache=None)``: with a ``KVCache``, the T new positions of x attend to every
    cached position and to each other causally, and their keys and values are appended to the
    cache, so generation runs one token at a time without recomputing the past.
    """

    def __init__(self, n_embd, n_head, dropout=0.0, bias=True):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"CausalSelfAttention: n_embd={n_embd} is not divisible by "
                             f"n_head={n_head}")
        self.n_head = n_head
        self.n_embd = n_embd
        self.dropout = dropout
        self.qkv = Linear(n_embd, 3 * n_embd, bias=bias)
        self.proj = Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = Dropout(dropout)

    def forward(self, x, kv_cache=None):                  # x: (B, T, C)
        if x.ndim != 3 or x.shape[-1] != self.n_embd:
            raise ValueError(f"CausalSelfAttention: expected input (B, T, {self.n_embd}), got "
                             f"shape {tuple(x.shape)}")
        B, T, C = x.shape
        nh, hs = self.n_head, C // self.n_head
        qkv = self.qkv(x).reshape(B, T, 3, nh, hs).permute(2, 0, 3, 1, 4)  # (3, B, nh, T, hs)
        q, k, v = qkv.unbind(0)                       # each (B, nh, T, hs); one backward copy
        if kv_cache is not None:
            k, v = kv_cache.update(k, v)                                    # (B, nh, S, hs)
        weights = attention_weights(q, k, dropout_p=self.dropout if self.training else 0.0,
                                    is_causal=True, causal_lower_right=True)  # after the cache
        y = weights @ v                                                     # (B, nh, T, hs)
        return self.resid_dropout(self.proj(y.transpose(1, 2).reshape(B, T, C)))

    def extra_repr(self):
        return f"n_embd={self.n_embd}, n_head={self.n_head}"
