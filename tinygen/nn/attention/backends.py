"""``torch.nn.attention``'s kernel choice for ``scaled_dot_product_attention``: the
``SDPBackend`` enum and the ``sdpa_kernel`` context manager.

    with sdpa_kernel(SDPBackend.MATH):
        y = F.scaled_dot_product_attention(q, k, v)

The switches are ``tinygen.backends.cuda``'s (``enable_flash_sdp`` and friends), as in PyTorch,
plus the overrideable one. tinygen has one implementation (math); what runs and what raises
when some kernels are off mirrors PyTorch on a CPU (see ``tinygen/ops/attention_backends.py``).
"""

import contextlib
import enum

from tinygen.backends import cuda as sdp_flags

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

# PyTorch warns why a fused kernel is skipped when this is True; tinygen has none to skip.
WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.Enum):
    """The attention kernels, numbered as PyTorch numbers them (``int(backend)``)."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self):
        return self.value


_NAMES = {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION,
          "mem_efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH,
          "overrideable": SDPBackend.OVERRIDEABLE}
_overrideable = [True]                  # the one switch tinygen.backends.cuda does not keep
_priority = [1, 2, 0, 3, 4]             # PyTorch's default order: flash, efficient, math, ...


def _enabled(name):
    if name == "overrideable":
        return _overrideable[0]
    return getattr(sdp_flags, f"{name}_sdp_enabled")()


def _set_enabled(name, enabled):
    if name == "overrideable":
        _overrideable[0] = enabled
    else:
        getattr(sdp_flags, f"enable_{name}_sdp")(enabled)


def _cur_sdpa_kernel_backends(with_priority=False):
    """The enabled backends, in PyTorch's name order or, ``with_priority``, by priority."""
    backends = [backend for name, backend in _NAMES.items() if _enabled(name)]
    if with_priority:
        backends.sort(key=lambda backend: _priority.index(int(backend)))
    return backends


def _sdpa_kernel(backends, set_priority=False):
    for name, backend in _NAMES.items():
        _set_enabled(name, backend in backends)
    if set_priority:
        order = [int(backend) for backend in backends]
        _priority[:] = order + [b for b in _priority if b not in order]


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Enable only ``backends`` (one SDPBackend or a list) inside the block; with
    ``set_priority`` their order is also the order of preference. The previous switches (and
    order) come back on exit. Yields ``{}``, as PyTorch does."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(f"Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous = _cur_sdpa_kernel_backends(with_priority=set_priority)
    try:
        _sdpa_kernel(backends, set_priority)
        yield {}
    finally:
        _sdpa_kernel(previous, set_priority)
