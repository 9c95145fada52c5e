"""``torch.backends.cudnn``: accepted and ignored (tinygen's convolutions are im2col + GEMM)."""

from tinygen.backends.flag_block import flag_block

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available():
    return False


def version():
    return None


def flags(enabled=False, benchmark=False, deterministic=False, allow_tf32=True):
    """Set the flags inside the block and restore them after, as PyTorch's ``flags()``."""
    return flag_block(globals(), enabled=enabled, benchmark=benchmark,
                      deterministic=deterministic, allow_tf32=allow_tf32)
