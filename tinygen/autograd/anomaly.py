"""Anomaly mode: find the op whose backward first produced a NaN, as PyTorch's does.

While it is on, every recorded op remembers where it was created (the first file:line outside
tinygen), and the engine checks the gradients each backward returns. The first NaN raises

    Function 'SqrtBackward' returned nan values in its 0th output. Its forward op was created
    at train.py:42: y = x.sqrt()

An error inside a backward names that place too. As in PyTorch, forward values are not checked
(so ``tg.where(tg.isnan(y), 0, y)`` masking works inside) and inf is allowed (the gradient of
sqrt at 0 is inf). ``check_nan=False`` keeps the places but turns the NaN check off. It slows
every op, so use it to debug, not to train.
"""

import functools

from tinygen.autograd.grad_mode import state


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly mode on."""

    def __init__(self, check_nan=True):
        self.check_nan = bool(check_nan)

    def __enter__(self):
        self.prev = state.anomaly_enabled, state.anomaly_check_nan
        state.anomaly_enabled, state.anomaly_check_nan = True, self.check_nan

    def __exit__(self, *exc):
        state.anomaly_enabled, state.anomaly_check_nan = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly mode on or off: a function call, or a context manager that restores it."""

    def __init__(self, mode, check_nan=True):
        self.prev = state.anomaly_enabled, state.anomaly_check_nan
        state.anomaly_enabled, state.anomaly_check_nan = bool(mode), bool(check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.anomaly_enabled, state.anomaly_check_nan = self.prev


def is_anomaly_enabled():
    return state.anomaly_enabled


def is_anomaly_check_nan_enabled():
    return state.anomaly_check_nan
