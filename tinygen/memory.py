"""Keep freed memory for the next training step: glibc's thresholds for large blocks.

glibc's malloc serves a large block (above its mmap threshold, which it adapts between 128 KiB
and 32 MiB) with fresh pages from the kernel and hands them back on free. A training step
allocates the same large temporaries every step (attention scores, im2col columns, gradients),
so every step the kernel zeroes those pages again on first touch: that was a fifth of a GPT
attention step and a third of im2col's time at its largest benchmark size. Raising the mmap and
trim thresholds keeps freed blocks in the heap, where the next step's allocation of the same
size finds them; the price is that the process keeps its peak memory instead of returning it.
PyTorch users get the same effect from jemalloc or tcmalloc.

``keep_freed_memory()`` runs once when tinygen is imported. It does nothing off glibc, when the
user tunes malloc already (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``,
``GLIBC_TUNABLES``), or when ``TINYGEN_KEEP_FREED_MEMORY=0``.
"""

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3      # mallopt's parameter numbers (malloc.h)
LARGE_BLOCK = 1 << 30                             # blocks up to 1 GiB come from the heap
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")
kept = False                        # whether keep_freed_memory() changed glibc's thresholds


def _glibc():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):          # not a GNU system
        return False


def keep_freed_memory():
    """Ask glibc to serve blocks up to 1 GiB from the heap and to keep up to 1 GiB of freed
    memory there; True when it did (``kept`` remembers it, for ``tinygen info``)."""
    global kept
    if os.environ.get("TINYGEN_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if any(name in os.environ for name in USER_SETTINGS) or not _glibc():
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    kept = bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)
                and libc.mallopt(M_TRIM_THRESHOLD, LARGE_BLOCK)) or kept
    return kept
