"""The one dispatch point for tinygen's hot loops.

``kernels.softmax(x)`` (and every other name of ``reference.py``) runs the fused twin for x's
device (Numba in ``cpu.py``, CuPy in ``cuda.py``) or the plain xp reference, chosen at call time:

- ``TINYGEN_KERNELS=reference`` (read on every call) or ``with kernels.use("reference"):`` turns
  fusion off; the default is ``fused``;
- a name with no fused twin, or a CPU without Numba, runs the reference.

The kernels take float32 and float64. The softmax family, cross-entropy and layer norm also take
float16: they run on float32 copies and return float16, as PyTorch computes half softmax and
normalization in float (its "accumulate type"), so a half result is the float one rounded once.

Fused modules are imported on first use, so ``import tinygen`` compiles nothing and does not
import Numba. ``on_dispatch``, when set, is called as ``on_dispatch(name, path)`` on every call
(the profiler's hook); ``path(name, array)`` names the choice, e.g. "fused-cpu".
"""

import contextlib
import functools
import importlib
import os

import numpy as np

from tinygen.backend import has_numba
from tinygen.kernels import reference

MODES = ("fused", "reference")
NAMES = (
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward", "causal_softmax",
    "cross_entropy", "bce_with_logits", "bce_with_logits_backward",
    "layer_norm", "layer_norm_backward", "batch_norm", "batch_norm_eval", "batch_norm_backward",
    "gelu", "gelu_backward", "leaky_relu", "leaky_relu_backward", "relu_backward", "bias_act",
    "bias_act_backward",
    "im2col", "im2col_strided", "col2im", "adam_step",
)
HALF_IN_FLOAT32 = frozenset({
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward", "causal_softmax",
    "cross_entropy", "layer_norm", "layer_norm_backward",
})
_FUSED_MODULES = {"cpu": "tinygen.kernels.cpu", "cuda": "tinygen.kernels.cuda"}

on_dispatch = None
_forced_mode = []                          # a stack: the innermost use(...) wins


def mode():
    """"fused" or "reference": the innermost ``use(...)``, else $TINYGEN_KERNELS, else fused."""
    if _forced_mode:
        return _forced_mode[-1]
    value = os.environ.get("TINYGEN_KERNELS", "") or "fused"
    if value not in MODES:
        raise ValueError(f"TINYGEN_KERNELS={value!r} is not a kernel mode: use one of {MODES}")
    return value


@contextlib.contextmanager
def use(kernel_mode):
    """Run the enclosed code with ``kernel_mode`` ("fused" or "reference")."""
    if kernel_mode not in MODES:
        raise ValueError(f"unknown kernel mode {kernel_mode!r}: use one of {MODES}")
    _forced_mode.append(kernel_mode)
    try:
        yield
    finally:
        _forced_mode.pop()


def _device_type(array):
    return "cpu" if isinstance(array, np.ndarray) else "cuda"


@functools.cache
def fused_module(device_type):
    """The fused module for "cpu" or "cuda", imported on first use, or None on a CPU without
    Numba."""
    if device_type == "cpu" and not has_numba():
        return None
    return importlib.import_module(_FUSED_MODULES[device_type])


def _choose(name, array):
    """(function, path) for kernel ``name`` on ``array``'s device in the current mode."""
    device_type = _device_type(array)
    if mode() == "fused":
        module = fused_module(device_type)
        fused = getattr(module, name, None) if module is not None else None
        if fused is not None:
            return fused, f"fused-{device_type}"
    return getattr(reference, name), f"reference-{device_type}"


def path(name, array):
    """Which implementation ``kernels.<name>`` would run on ``array`` now, e.g. "fused-cpu"."""
    if name not in NAMES:
        raise ValueError(f"unknown kernel {name!r}: expected one of {NAMES}")
    return _choose(name, array)[1]


def _retyped(value, old, new):
    """``value`` (an array, a tuple of arrays, or anything else) with its ``old``-dtype arrays
    converted to ``new``."""
    if isinstance(value, tuple):
        return tuple(_retyped(v, old, new) for v in value)
    return value.astype(new) if getattr(value, "dtype", None) == old else value


def _in_float32(fn):
    """fn run on float32 copies of its float16 arrays, with its float32 results rounded back to
    float16."""
    def run(*args, **kwargs):
        result = fn(*_retyped(args, np.float16, np.float32), **kwargs)
        return _retyped(result, np.float32, np.float16)
    return run


def _dispatcher(name):
    """kernels.<name>: the chosen implementation, called with the same arguments; the first
    argument is an array on the device that decides."""
    half_in_float32 = name in HALF_IN_FLOAT32

    def dispatch(array, *args, **kwargs):
        fn, where = _choose(name, array)
        if on_dispatch is not None:
            on_dispatch(name, where)
        if half_in_float32 and array.dtype == np.float16:
            fn = _in_float32(fn)
        return fn(array, *args, **kwargs)

    dispatch.__name__ = dispatch.__qualname__ = name
    dispatch.__doc__ = getattr(reference, name).__doc__
    return dispatch


# One module-level function per kernel name, e.g. kernels.softmax(x).
globals().update({name: _dispatcher(name) for name in NAMES})
