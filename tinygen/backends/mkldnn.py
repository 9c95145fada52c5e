"""``torch.backends.mkldnn``: tinygen has no oneDNN; the flag is kept (a script may read back
what it set) and changes nothing."""

from tinygen.backends.flag_block import flag_block

enabled = True
deterministic = False
allow_tf32 = True


def is_available():
    return False


def flags(enabled=False, deterministic=False, allow_tf32=True):
    """Set the flags inside the block, as PyTorch's ``flags()``; they change nothing here."""
    return flag_block(globals(), enabled=enabled, deterministic=deterministic,
                      allow_tf32=allow_tf32)
