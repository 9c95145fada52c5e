"""Lazy CUDA start-up shared by ``tg.cuda``: the error for a machine without a usable GPU, and
device arguments (an index, 'cuda:N', a ``tg.device``) turned into GPU indices.

PyTorch built without CUDA raises ``AssertionError("Torch not compiled with CUDA enabled")``
from the calls that need a GPU, and ``RuntimeError`` from a few others; ``CudaUnavailableError``
is both, so code written against either form catches it.
"""

import numbers

from tinygen import backend


class CudaUnavailableError(AssertionError, RuntimeError):
    """A CUDA call on a machine where CuPy or a GPU is not available."""


_initialized = [False]


def is_initialized():
    """True once a ``tg.cuda`` call has used the GPU (never without one)."""
    return _initialized[0]


def lazy_init(what="CUDA"):
    """The cupy module, after checking that a GPU is usable; else ``CudaUnavailableError``."""
    if not backend.has_cupy():
        raise CudaUnavailableError(f"{what} needs a CUDA GPU, but CuPy or a GPU is not "
                                   f"available: {backend.CUDA_INSTALL_HINT}.")
    _initialized[0] = True
    return backend.cupy_module()


def init():
    """Start CUDA now rather than at the first call that needs it (raises without a GPU)."""
    lazy_init("tg.cuda.init()")


def device_index(device):
    """The GPU index that ``device`` names (an int, 'cuda:N', a ``tg.device``), or None for
    None and 'cuda' (the current GPU). A CPU device raises ValueError, as in PyTorch."""
    if device is None:
        return None
    if isinstance(device, numbers.Integral) and not isinstance(device, bool):
        return int(device)
    if isinstance(device, str) and device == "cuda":     # no index: the current GPU, as PyTorch
        return None
    if isinstance(device, (str, backend.Device)):
        dev = backend.Device(device)
        if dev.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {dev}")
        return dev.index
    index = getattr(device, "idx", None)          # a tg.cuda.device context manager
    if isinstance(index, int):
        return index
    raise TypeError(f"expected a GPU index, a 'cuda:N' string or a tg.device, got "
                    f"{type(device).__name__}")


def resolve(cupy, device):
    """``device_index(device)``, with None meaning the current GPU."""
    index = device_index(device)
    return cupy.cuda.runtime.getDevice() if index is None else index
