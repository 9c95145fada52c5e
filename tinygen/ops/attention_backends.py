"""Which scaled-dot-product-attention kernels may run, as PyTorch decides it on the CPU.

``torch.nn.attention.sdpa_kernel`` (and ``torch.backends.cuda.enable_*_sdp``) switch kernels
on and off; ``tinygen.backends.cuda`` keeps the same switches. tinygen has one implementation,
the math one, and runs it whenever PyTorch's CPU build would run some kernel:

- the math kernel is enabled: it runs everything;
- only the flash kernel is enabled: PyTorch's CPU flash kernel runs, but only on what it
  supports (4-D dense inputs of equal head size and matching batch and heads, no dropout), else
  ``RuntimeError("No available kernel.  Aborting execution.")`` after warnings saying why;
- neither (only efficient, cuDNN or overrideable, none of which has a CPU kernel):
  ``RuntimeError("No viable backend ...")``.
"""

import warnings

from tinygen.backends import cuda as sdp_flags

NO_VIABLE = ("No viable backend for scaled_dot_product_attention was found. This is likely due "
             "to turning off both the math kernel and the fused kernels.")
NO_KERNEL = "No available kernel.  Aborting execution."


def check_sdp_backend(query, key, value, dropout_p=0.0, enable_gqa=False):
    """Raise PyTorch's RuntimeError when no enabled kernel could run this call on a CPU."""
    if sdp_flags.math_sdp_enabled():
        return
    if not sdp_flags.flash_sdp_enabled():
        raise RuntimeError(NO_VIABLE)
    reason = _flash_unsupported(query, key, value, dropout_p, enable_gqa)
    if reason is not None:
        warnings.warn("Flash attention kernel not used because:", UserWarning, stacklevel=3)
        warnings.warn(reason, UserWarning, stacklevel=3)
        raise RuntimeError(NO_KERNEL)


def _flash_unsupported(query, key, value, dropout_p, enable_gqa):
    """Why PyTorch's CPU flash kernel refuses these inputs (sdp_utils_cpp), or None."""
    if dropout_p > 0.0:
        return "Both fused kernels do not support non-zero dropout."
    if not query.ndim == key.ndim == value.ndim == 4:
        return (f"All fused kernels requires query, key and value to be 4 dimensional, but got "
                f"Query dim: {query.ndim}, Key dim: {key.ndim}, Value dim: {value.ndim} "
                f"instead.")
    if not query.shape[-1] == key.shape[-1] == value.shape[-1]:
        return (f"Flash attention requires q,k,v to have the same last dimension. Got Query."
                f"size(-1): {query.shape[-1]}, Key.size(-1): {key.shape[-1]}, Value.size(-1): "
                f"{value.shape[-1]} instead.")
    if not query.shape[0] == key.shape[0] == value.shape[0]:
        return (f"For dense inputs, both fused kernels require query, key and value to have "
                f"the same batch_size. {_sizes(query, key, value)}")
    heads_ok = (query.shape[1] % key.shape[1] == 0 and key.shape[1] == value.shape[1]
                if enable_gqa else query.shape[1] == key.shape[1] == value.shape[1])
    if not heads_ok:
        return (f"For dense input, both fused kernels require query, key and value to have "
                f"the same num_heads. {_sizes(query, key, value)}")
    return None


def _sizes(query, key, value):
    return (f"Query.sizes(): {list(query.shape)}, Key.sizes(): {list(key.shape)}, "
            f"Value.sizes(): {list(value.shape)} instead.")
