"""``tg.accelerator``, as ``torch.accelerator``: the device-generic calls, for scripts that ask
"is there an accelerator, and which" without naming CUDA. tinygen's only accelerator is a CUDA
GPU through CuPy; without one, the calls that need it raise RuntimeError, as in PyTorch."""

from tinygen import cuda
from tinygen.backend import Device

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count",
           "device_index", "empty_cache", "is_available", "set_device_idx", "set_device_index",
           "synchronize"]

_NONE = "Cannot access accelerator device when none is available."


def is_available():
    """True when a CUDA GPU is usable."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """``tg.device('cuda')`` when there is a GPU, else None."""
    return Device("cuda") if cuda.is_available() else None


def device_count():
    return cuda.device_count()


def _need():
    if not cuda.is_available():
        raise RuntimeError(_NONE)


def current_device_index():
    """The index of the current GPU."""
    _need()
    return cuda.current_device()


def set_device_index(device):
    """Make GPU ``device`` current."""
    _need()
    cuda.set_device(device)


current_device_idx = current_device_index
set_device_idx = set_device_index


class device_index(cuda.device):
    """``with tg.accelerator.device_index(i):`` makes GPU ``i`` current inside the block (None
    does nothing)."""

    def __enter__(self):
        if self.idx >= 0:
            _need()
        return super().__enter__()


def synchronize(device=None):
    """Wait for the kernels queued on a GPU (the current one by default)."""
    _need()
    cuda.synchronize(device)


def empty_cache():
    """Give CuPy's cached free blocks back to the driver."""
    _need()
    cuda.empty_cache()
