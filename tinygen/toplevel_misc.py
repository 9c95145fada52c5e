"""Top-level odds and ends PyTorch scripts call: constants, dtype aliases, global switches,
type queries, and the removed linear-algebra names.

The switches keep PyTorch's state and validate their values as PyTorch does, but NumPy has no
nondeterministic kernels, no TF32 matmuls and no inter-op thread pool, so most change nothing:
each docstring says so. Anomaly mode is tinygen's own (``tg.autograd.detect_anomaly``).
The ops (``tg.gradient``, ``tg.pdist``, ...) are in ``toplevel_misc_ops.py``.
"""

import builtins
import math
import os
import warnings

import numpy as np

from tinygen import backend, dtypes
from tinygen.autograd.grad_mode import state as _grad_state
from tinygen.tensor import Tensor
from tinygen.toplevel_misc_ops import (
    empty_strided, fill, frobenius_norm, gradient, nuclear_norm, pdist, positive, threshold_)
from tinygen.toplevel_misc_removed import eig, lstsq, matrix_rank, solve, symeig

inf, nan, pi, e = math.inf, math.nan, math.pi, math.e
newaxis = None
int, uint16, uint32, uint64 = dtypes.int32, dtypes.uint16, dtypes.uint32, dtypes.uint64
dtype = np.dtype            # tinygen dtypes are NumPy dtypes: isinstance(x.dtype, tg.dtype)

__all__ = ["inf", "nan", "pi", "e", "newaxis", "int", "uint16", "uint32", "uint64", "dtype",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "set_flush_denormal", "set_num_interop_threads",
           "get_num_interop_threads", "set_warn_always", "is_warn_always_enabled",
           "set_anomaly_enabled", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "is_autocast_enabled", "is_complex", "is_signed", "is_nonzero", "typename",
           "get_device", "is_storage", "set_default_tensor_type",
           "empty_strided", "fill", "frobenius_norm", "gradient", "nuclear_norm", "pdist",
           "positive", "threshold_", "eig", "lstsq", "matrix_rank", "solve", "symeig"]

_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest",
          "interop_threads": os.cpu_count() or 1, "warn_always": False}
_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}
_MATMUL_PRECISIONS = ("highest", "high", "medium")


def _check_bool(value, what):
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be bool, not {type(value).__name__}")


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record the request for deterministic algorithms. tinygen's NumPy kernels are
    deterministic already (CuPy's atomic-add reductions are not, and are not switched)."""
    _check_bool(mode, "use_deterministic_algorithms(): argument 'mode' (position 1)")
    _check_bool(warn_only, "use_deterministic_algorithms(): argument 'warn_only'")
    _state["deterministic"], _state["warn_only"] = mode, mode and warn_only


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    """0 / 'default': off; 1 / 'warn': deterministic, warn only; 2 / 'error': deterministic."""
    if not isinstance(debug_mode, (builtins.int, str)):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_float32_matmul_precision(precision):
    """'highest', 'high' or 'medium'. Recorded only: NumPy and CuPy matmuls run in full
    float32 (no TF32 or bfloat16 passes), which is 'highest'."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in _MATMUL_PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"set_float32_matmul_precision call has no effect.", stacklevel=2)
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _state["matmul_precision"]


def set_flush_denormal(mode):
    """Whether denormal flushing could be set: always False, NumPy offers no switch for it."""
    return False


def set_num_interop_threads(num):
    """Recorded only: tinygen runs ops one after another, with no inter-op thread pool."""
    if isinstance(num, bool) or not isinstance(num, builtins.int) or num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _state["interop_threads"] = num


def get_num_interop_threads():
    return _state["interop_threads"]


def set_warn_always(b):
    """Recorded only: tinygen's warnings follow Python's ``warnings`` filters."""
    if not isinstance(b, bool):
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _state["warn_always"] = b


def is_warn_always_enabled():
    return _state["warn_always"]


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly mode (see ``tg.autograd.detect_anomaly``) on or off."""
    _grad_state.anomaly_enabled, _grad_state.anomaly_check_nan = bool(enabled), bool(check_nan)


def is_anomaly_enabled():
    return _grad_state.anomaly_enabled


def is_anomaly_check_nan_enabled():
    return _grad_state.anomaly_check_nan


def is_autocast_enabled(device_type=None):
    """Always False: tinygen has no autocast (``tg.amp.autocast`` can only be disabled)."""
    return False


def _tensor_arg(fn, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return input


def is_complex(input):
    return _tensor_arg("is_complex", input).is_complex()


def is_signed(input):
    return _tensor_arg("is_signed", input).is_signed()


def is_nonzero(input):
    """The truth of a one-element tensor; RuntimeError for any other size, as PyTorch."""
    return _tensor_arg("is_nonzero", input).is_nonzero()


def get_device(input):
    """The CUDA device index of ``input``, or -1 on the CPU."""
    return _tensor_arg("get_device", input).get_device()


def is_storage(obj):
    """False: tinygen has no storage objects (a tensor's memory is its array)."""
    return False


def typename(obj):
    """The type name of ``obj``: ``x.type()`` for a tensor ('tinygen.FloatTensor'), else the
    qualified name of its class, or of itself when it is a class or function."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


_TENSOR_TYPES = {"FloatTensor": dtypes.float32, "DoubleTensor": dtypes.float64,
                 "HalfTensor": dtypes.float16}


def set_default_tensor_type(t):
    """Deprecated in PyTorch (use ``set_default_dtype``): 'torch.FloatTensor',
    'torch.DoubleTensor' (or 'tinygen.*', 'torch.cuda.*', or ``tg.FloatTensor`` itself) set
    the default float dtype, and the default device (cuda for a cuda type, else cpu)."""
    warnings.warn("set_default_tensor_type() is deprecated, as in PyTorch 2.1; use "
                  "tg.set_default_dtype() and tg.set_default_device() instead", UserWarning,
                  stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(f"invalid type object: expected a tensor type name or class, got "
                        f"{type(t).__name__}")
    parts = name.split(".")
    if len(parts) > 1 and parts[0] not in ("torch", "tinygen"):
        raise TypeError(f"invalid type: '{name}'")
    if parts[-1] not in _TENSOR_TYPES:
        if parts[-1].endswith("Tensor"):
            raise TypeError("only floating-point types are supported as the default type")
        raise TypeError(f"invalid type: '{name}'")
    dtypes.set_default_dtype(_TENSOR_TYPES[parts[-1]])
    backend.set_default_device("cuda" if "cuda" in parts[1:-1] else "cpu")

