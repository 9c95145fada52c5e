"""Attention: the layers (``MultiheadAttention``, GPT-style ``CausalSelfAttention`` and its
``KVCache``, in ``layers.py``) and, as ``torch.nn.attention``, the choice of
scaled-dot-product-attention kernel (``SDPBackend``, ``sdpa_kernel``: ``backends.py``) and the
causal masks of ``torch.nn.attention.bias`` (``bias.py``).

``torch.nn.attention.flex_attention`` (score and block-mask functions compiled into one kernel)
is not provided: it is a compiler feature, far larger than the rest of this package.
"""

from tinygen.nn.attention.layers import (
    CausalSelfAttention, KVCache, MultiheadAttention, NonDynamicallyQuantizableLinear)
from tinygen.nn.attention.backends import (
    WARN_FOR_UNFUSED_KERNELS, SDPBackend, sdpa_kernel)
from tinygen.nn.attention import bias

__all__ = ["CausalSelfAttention", "KVCache", "MultiheadAttention",
           "NonDynamicallyQuantizableLinear", "SDPBackend", "WARN_FOR_UNFUSED_KERNELS", "bias",
           "sdpa_kernel"]
