"""``tg.signal.windows``: PyTorch's window functions (scipy.signal.windows' names and ``sym``).

Each window is a formula on M evenly spaced points k, as in torch.signal.windows. ``sym=True``
(the default) gives the symmetric window of filter design; ``sym=False`` the periodic one of
spectral analysis (the symmetric window of length M + 1 without its last point). Values are
computed in float64 on the host, then cast to ``dtype`` and moved to ``device``, as
tinygen's ``tg.hann_window`` and its kin are.
"""

import math
from collections.abc import Iterable

import numpy as np

from tinygen import backend, dtypes
from tinygen.tensor import Tensor
from tinygen.tensor_extras import strided

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]

NUTTALL = (0.3635819, 0.4891775, 0.1365995, 0.0106411)


def _window(name, M, dtype, layout, device, requires_grad, values):
    """The window ``values(M)`` (a float64 array) as a tensor, after PyTorch's checks; M == 0
    gives an empty tensor without calling ``values``."""
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    try:
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    except TypeError:                           # bfloat16 and other dtypes NumPy lacks
        pass
    if dtype not in (dtypes.float32, dtypes.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    array = values(M) if M else np.zeros(0)
    device = backend.default_device() if device is None else backend.Device(device)
    return Tensor(backend.to_device(array.astype(dtype), device), requires_grad=requires_grad)


def _grid(start, step, M):
    """start, start + step, ..., start + (M - 1) step."""
    return start + step * np.arange(M)


def _length(M, sym):
    """The denominator of a window's spacing: M - 1 for a symmetric window, M for periodic."""
    return M - 1 if sym else M


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=strided, device=None,
                requires_grad=False):
    """exp(-|n - center| / tau); the centre defaults to the middle of the window."""
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")

    def values(M):
        middle = (M if not sym and M > 1 else M - 1) / 2.0 if center is None else center
        return np.exp(-np.abs(_grid(-middle, 1.0, M) / tau))
    return _window("exponential", M, dtype, layout, device, requires_grad, values)


def cosine(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """sin(pi (n + 1/2) / M) (M + 1 for the periodic window): the sine window."""
    def values(M):
        step = math.pi / (M + 1 if not sym and M > 1 else M)
        return np.sin(_grid(0.5 * step, step, M))
    return _window("cosine", M, dtype, layout, device, requires_grad, values)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=strided, device=None,
             requires_grad=False):
    """exp(-(n - c)**2 / (2 std**2)), c the middle of the window."""
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")

    def values(M):
        start = -(M if not sym and M > 1 else M - 1) / 2.0
        return np.exp(-(_grid(start, 1.0, M) / (std * math.sqrt(2))) ** 2)
    return _window("gaussian", M, dtype, layout, device, requires_grad, values)


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=strided, device=None,
           requires_grad=False):
    """I0(beta sqrt(1 - x**2)) / I0(beta) for x evenly spaced from -1 (I0: the modified Bessel
    function of order 0)."""
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")

    def values(M):
        if M == 1:
            return np.ones(1)
        k = np.minimum(_grid(-beta, 2.0 * beta / _length(M, sym), M), beta)
        return np.i0(np.sqrt(np.maximum(beta * beta - k * k, 0))) / np.i0(beta)
    return _window("kaiser", M, dtype, layout, device, requires_grad, values)


def bartlett(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """1 - |x| for x evenly spaced from -1: the triangular window with zero ends."""
    def values(M):
        if M == 1:
            return np.ones(1)
        return 1 - np.abs(_grid(-1.0, 2.0 / _length(M, sym), M))
    return _window("bartlett", M, dtype, layout, device, requires_grad, values)


def general_cosine(M, *, a, sym=True, dtype=None, layout=strided, device=None,
                   requires_grad=False):
    """sum_i (-1)**i a[i] cos(i k), k = 2 pi n / (M - 1) (M for the periodic window)."""
    def values(M):
        if M == 1:
            return np.ones(1)
        if not isinstance(a, Iterable):
            raise TypeError("Coefficients must be a list/tuple")
        coefficients = list(a)
        if not coefficients:
            raise ValueError("Coefficients cannot be empty")
        k = _grid(0.0, 2 * math.pi / _length(M, sym), M)
        return sum((-1) ** i * w * np.cos(i * k) for i, w in enumerate(coefficients))
    return _window("general_cosine", M, dtype, layout, device, requires_grad, values)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=strided, device=None,
                    requires_grad=False):
    """alpha - (1 - alpha) cos(2 pi n / (M - 1)): hamming (0.54) and hann (0.5)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """0.42 - 0.5 cos(k) + 0.08 cos(2 k)."""
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """The four-term Nuttall window (general_cosine with Nuttall's coefficients)."""
    return general_cosine(M, a=NUTTALL, sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)
