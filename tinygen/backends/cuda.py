"""``torch.backends.cuda``: the matmul precision flags, accepted and ignored (tinygen's float32
products are float32 on every device)."""

from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built():
    """Whether tinygen can run on CUDA here (CuPy imports and sees a GPU)."""
    from tinygen import cuda
    return cuda.is_available()
