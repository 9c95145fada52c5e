"""``torch.backends.cudnn``: accepted and ignored (tinygen's convolutions are im2col + GEMM)."""

import contextlib

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available():
    return False


def version():
    return None


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, deterministic=False, allow_tf32=True):
    """Set the flags inside the block and restore them after, as PyTorch's ``flags()``."""
    names = {"enabled": enabled, "benchmark": benchmark, "deterministic": deterministic,
             "allow_tf32": allow_tf32}
    module = globals()
    saved = {name: module[name] for name in names}
    module.update(names)
    try:
        yield
    finally:
        module.update(saved)
