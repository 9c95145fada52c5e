"""``torch.backends.cudnn``: accepted and ignored (tinygen's convolutions are im2col + GEMM)."""

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available():
    return False


def version():
    return None
