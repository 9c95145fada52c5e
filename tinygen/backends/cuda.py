"""``torch.backends.cuda``: the matmul precision flags, accepted and ignored (tinygen's float32
products are float32 on every device), and the attention-kernel switches, which
``scaled_dot_product_attention`` honours as PyTorch's CPU build does: it refuses when only
kernels that cannot run the call are enabled (see ``tinygen.nn.attention.sdpa_kernel``),
though tinygen has one implementation."""

from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)

_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built():
    """Whether tinygen can run on CUDA here (CuPy imports and sees a GPU)."""
    from tinygen import cuda
    return cuda.is_available()


def enable_flash_sdp(enabled):
    _sdp["flash"] = bool(enabled)


def flash_sdp_enabled():
    return _sdp["flash"]


def enable_mem_efficient_sdp(enabled):
    _sdp["mem_efficient"] = bool(enabled)


def mem_efficient_sdp_enabled():
    return _sdp["mem_efficient"]


def enable_math_sdp(enabled):
    _sdp["math"] = bool(enabled)


def math_sdp_enabled():
    return _sdp["math"]


def enable_cudnn_sdp(enabled):
    _sdp["cudnn"] = bool(enabled)


def cudnn_sdp_enabled():
    return _sdp["cudnn"]
