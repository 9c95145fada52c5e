"""``torch.backends.mkldnn``: tinygen has no oneDNN; the flag is kept (a script may read back
what it set) and changes nothing."""

import contextlib

enabled = True
deterministic = False
allow_tf32 = True


def is_available():
    return False


@contextlib.contextmanager
def flags(enabled=False, deterministic=False, allow_tf32=True):
    """Set the flags inside the block, as PyTorch's ``flags()``; they change nothing here."""
    names = {"enabled": enabled, "deterministic": deterministic, "allow_tf32": allow_tf32}
    module = globals()
    saved = {name: module[name] for name in names}
    module.update(names)
    try:
        yield
    finally:
        module.update(saved)
